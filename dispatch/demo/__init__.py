"""Demo data for 市南区: streets, communities, departments, volunteers and sample resident messages."""
