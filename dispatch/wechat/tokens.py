"""Access tokens shared by every process: kept in the database (default) or Redis, refreshed by one at a time.

A process reads the shared token; only when the stored one is due (or WeChat refused it) does it take the
lock, read again (another process may just have refreshed it) and only then ask WeChat, through
stable_token, which hands every caller the same token while it is valid.
"""
import json
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update

from dispatch.extensions import db
from dispatch.wechat.models import WeChatAccount

# Refresh a little before WeChat's 7200 s are up, so no call goes out with a token about to die.
TOKEN_MARGIN = timedelta(minutes=5)
LOCK_SECONDS = 10


class DatabaseTokens:
    """Tokens on the account's row; on PostgreSQL a row lock in a short transaction of its own admits one
    refresher. SQLite is one machine's embedded store: its refresh rides the caller's transaction."""

    def read(self, account):
        row = db.session.execute(select(WeChatAccount.access_token, WeChatAccount.access_token_expires_at)
                                 .where(WeChatAccount.id == account.id)).one()
        return row.access_token, row.access_token_expires_at

    def refresh(self, account, fetch, is_due):
        """Under the lock: the token another process stored meanwhile, or a fresh one from fetch()."""
        table = WeChatAccount.__table__
        if db.session.get_bind().dialect.name != "postgresql":
            token, expires = fetch()
            db.session.execute(update(table).where(table.c.id == account.id)
                               .values(access_token=token, access_token_expires_at=expires))
            return token, expires
        with db.engine.connect() as connection, connection.begin():
            row = connection.execute(select(table.c.access_token, table.c.access_token_expires_at)
                                     .where(table.c.id == account.id).with_for_update()).one()
            if not is_due(row.access_token, row.access_token_expires_at):
                return row.access_token, row.access_token_expires_at
            token, expires = fetch()
            connection.execute(update(table).where(table.c.id == account.id)
                               .values(access_token=token, access_token_expires_at=expires))
        return token, expires


class RedisTokens:
    """Tokens in Redis under dispatch:wechat:token:<appid>; a SET NX key admits one refresher."""

    def __init__(self, url):
        import redis  # only when configured: nothing else needs Redis

        self.redis = redis.Redis.from_url(url)

    def _key(self, account):
        return f"dispatch:wechat:token:{account.appid}"

    def read(self, account):
        raw = self.redis.get(self._key(account))
        if raw is None:
            return None, None
        kept = json.loads(raw)
        return kept["token"], datetime.fromisoformat(kept["expires"])

    def refresh(self, account, fetch, is_due):
        lock = self._key(account) + ":lock"
        deadline = time.monotonic() + LOCK_SECONDS
        while not self.redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
            token, expires = self.read(account)
            if not is_due(token, expires) or time.monotonic() > deadline:
                return token, expires
            time.sleep(0.05)  # another process is asking WeChat right now; its answer lands here shortly
        try:
            token, expires = self.read(account)
            if is_due(token, expires):
                token, expires = fetch()
                ttl = max(1, int((expires - datetime.now(timezone.utc)).total_seconds()))
                self.redis.set(self._key(account), json.dumps({"token": token, "expires": expires.isoformat()}),
                               ex=ttl)
            return token, expires
        finally:
            self.redis.delete(lock)


_stores = {}
_store_lock = threading.Lock()


def token_store():
    """The configured store: Redis when WECHAT_TOKEN_REDIS_URL is set, else the database."""
    url = current_app.config.get("WECHAT_TOKEN_REDIS_URL")
    with _store_lock:
        if url not in _stores:
            _stores[url] = RedisTokens(url) if url else DatabaseTokens()
        return _stores[url]
