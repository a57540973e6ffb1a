"""URL converters (an <int:…> part of a path is a database id, so it stops where the id column stops), and the
addresses this server is reached at (PUBLIC_BASE_URL and the WeChat base URLs derived from it)."""
from flask import current_app, has_request_context, request
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


def base_url(key="PUBLIC_BASE_URL"):
    """A configured base URL, without its trailing slash.

    In development without PUBLIC_BASE_URL (BASE_URLS_FROM_REQUEST), a request's links follow the address it came
    to, and so do the stub's URLs derived from it: `flask run --port 5001` works without telling anyone the port.
    Outside a request (the scheduler) the configured value stands: http://127.0.0.1:$PORT unless set.
    """
    config = current_app.config
    value, public = config[key].rstrip("/"), config["PUBLIC_BASE_URL"].rstrip("/")
    if config.get("BASE_URLS_FROM_REQUEST") and has_request_context() and (
            value == public or value.startswith(public + "/")):
        return request.host_url.rstrip("/") + value[len(public):]
    return value
