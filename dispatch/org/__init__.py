"""District, streets, communities, departments, staff users, residents, roles and scopes."""
