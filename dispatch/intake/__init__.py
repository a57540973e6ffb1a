"""Channel adapters: each door (phone, WeChat, one-tap calls) hands its ticket to tickets.pipeline.open_ticket."""
