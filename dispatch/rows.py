"""ORM objects built from rows we already hold, so hot paths need not ask the database again."""
import functools

from sqlalchemy import inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from dispatch.extensions import db


def _default(attr):
    """The scalar default of a mapped column (what an INSERT without it stores), else None."""
    default = attr.columns[0].default
    return default.arg if default is not None and default.is_scalar else None


@functools.cache
def _column_defaults(model):
    """(attribute, default) for every mapped column of a model."""
    return tuple((attr.key, _default(attr)) for attr in inspect(model).column_attrs)


def detached(model, values):
    """An instance of model as if just loaded with these column values, belonging to no session."""
    instance = inspect(model).class_manager.new_instance()
    # Filled the way a query fills a loaded row: the constructor's per-attribute events cost more than the SQL.
    instance_state(instance).dict.update({key: values[key] if key in values else default
                                          for key, default in _column_defaults(model)})
    make_transient_to_detached(instance)  # the values become its loaded state, not pending changes
    return instance


def persistent(model, values):
    """The row just inserted with these values, as an object of the current session (no SQL sent)."""
    instance = detached(model, values)
    db.session.add(instance)
    return instance


def snapshot(instance):
    """A session-free copy of a loaded object's columns, safe to keep between requests."""
    return detached(type(instance), {attr.key: getattr(instance, attr.key)
                                     for attr in inspect(instance).mapper.column_attrs})


def cached_instance(cache, key, load):
    """The object load() finds, kept as a snapshot in cache and merged into this session without SQL."""
    if not cache.enabled():
        return load()

    def load_snapshot():
        found = load()
        return snapshot(found) if found is not None else None
    kept = cache.get(key, load_snapshot)
    return db.session.merge(kept, load=False) if kept is not None else None


def merged(model, values):
    """The row just read or written, as this session's object; one already in the session takes its values
    (except attributes it changed and has not flushed yet)."""
    key = db.session.identity_key(model, (values["id"],))
    known = db.session.identity_map.get(key)
    if known is None:
        return persistent(model, values)
    changed = instance_state(known).committed_state
    for name, value in values.items():
        if name not in changed:
            set_committed_value(known, name, value)
    return known
