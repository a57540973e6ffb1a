"""Browser tests: the real app on a local port, driven by headless Chromium through Playwright."""
