"""The console: staff pages for tickets (list, detail, actions), over tickets.services."""
