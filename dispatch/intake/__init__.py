"""Channel adapters: each door (phone, WeChat, H5 form) ends in tickets.services.create_ticket."""
