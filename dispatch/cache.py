"""Short-lived per-process caches for reference data every request reads (tokens, communities, categories).

Each worker keeps its own copy for a few seconds, so an edit reaches every worker within the
configured time without a cache server. A TTL of 0 (the tests) turns caching off.
"""
import threading
import time

from flask import current_app

_all_caches = []


class TtlCache:
    """A small dict of key → value that forgets entries older than the TTL named by a config key."""

    def __init__(self, ttl_setting, max_entries=1024):
        self.ttl_setting = ttl_setting
        self.max_entries = max_entries
        self._entries = {}
        self._lock = threading.Lock()
        _all_caches.append(self)

    def enabled(self):
        """Whether this app keeps entries at all (a TTL of 0 turns the cache off)."""
        return current_app.config[self.ttl_setting] > 0

    def get(self, key, load):
        """The cached value for key, or load() stored for next time; None results are never cached."""
        ttl = current_app.config[self.ttl_setting]
        if ttl <= 0:
            return load()
        at = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and at - hit[0] < ttl:
            return hit[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()  # rare: a crude bound beats an unbounded dict keyed by input
                self._entries[key] = (at, value)
        return value

    def forget(self, key=None):
        """Drop one entry, or all of them."""
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)


def clear_all():
    """Empty every cache of this process (after a bulk load, and between tests)."""
    for cache in _all_caches:
        cache.forget()
