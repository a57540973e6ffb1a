"""The JSON API under /api/v1 (bearer tokens), its schemas and the photo files behind tickets."""
