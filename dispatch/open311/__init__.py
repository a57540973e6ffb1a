"""Open311 GeoReport v2: the standard door for civic-issue clients, over tickets.services."""
