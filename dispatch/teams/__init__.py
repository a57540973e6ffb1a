"""The 365 service teams and departments: who can take a ticket, their tasks, and the desks they work from."""
