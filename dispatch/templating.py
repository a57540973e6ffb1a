"""Template helpers: local times, Chinese labels, the CSRF token."""
from dispatch.tickets.lifecycle import STATUS_LABELS, Status
from dispatch.timeutil import local


def shanghai(value, fmt="%Y-%m-%d %H:%M"):
    """Format a stored UTC instant in Asia/Shanghai."""
    return local(value).strftime(fmt) if value else ""


def init_app(app):
    """Register filters and globals used across the console's templates."""
    app.jinja_env.filters["shanghai"] = shanghai
    app.jinja_env.globals.update(Status=Status, STATUS_LABELS=STATUS_LABELS)
