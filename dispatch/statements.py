"""Pieces of the statements hot paths build once per process: typed parameters, the database's INSERT."""
from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite

from dispatch.extensions import db


def typed(table, keys, prefix=""):
    """Bound parameters named prefix + key and typed as the table's columns, by key."""
    return {key: bindparam(prefix + key, type_=table.c[key].type) for key in keys}


def dialect():
    """The current database's dialect module, whose insert() knows ON CONFLICT."""
    return postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
