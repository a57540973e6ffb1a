"""URL converters: an <int:…> part of a path is a database id, so it stops where the id column stops."""
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # INTEGER columns on PostgreSQL, and where SQLite's driver still binds safely


class IdConverter(IntegerConverter):
    """<int:…> that does not match past MAX_ID: such a path is a 404 like any unknown id, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app):
    """Make <int:…> mean an id everywhere (before any blueprint registers its rules)."""
    app.url_map.converters["int"] = IdConverter
