"""The resident's own pages inside WeChat (H5): report a problem, follow one's tickets, rate the result."""
