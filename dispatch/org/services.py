"""Organisation services: look-ups, staff users, API tokens and the login rate limit."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, false, func, select

from dispatch.cache import TtlCache
from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.accounts import save_account
from dispatch.org.models import ApiToken, Community, LoginFailure, Street, User
from dispatch.org.principal import SYSTEM, Principal
from dispatch.rows import cached_instance
from dispatch.org.roles import Role
from dispatch.timeutil import now as clock_now

TOKEN_PREFIX = "dsp_"
# Each kind of secret has its own prefix, so a value shows which door it opens (and a leaked one is easy to grep).
PREFIXES = {"api": TOKEN_PREFIX, "open311": "o311_"}
MAX_TOKEN_NAME = 50  # with its door's prefix, a name fits the timeline's actor column (64)


def by_code(model, code, what):
    """Find a street, community or department by code, or raise NotFound naming it."""
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        raise NotFound(f"找不到{what}「{code}」")
    return found


_communities = TtlCache("REFERENCE_CACHE_SECONDS")


def community_by_code(code):
    """The community with this code, or None; kept briefly per process because every new ticket names one."""
    return cached_instance(_communities, code,
                           lambda: db.session.scalar(select(Community).where(Community.code == code)))


def community_by_id(community_id):
    """The community with this id, or None (cached like community_by_code)."""
    return cached_instance(_communities, community_id, lambda: db.session.get(Community, community_id))


def requested_community(principal, code):
    """The community an API request names, or the caller's own when it has exactly one; 422 otherwise."""
    if not code and principal.community_id:
        return community_by_id(principal.community_id)
    if not code:
        raise Invalid("需要指定社区（community）", fields={"community": ["必填"]})
    community = community_by_code(code)
    if community is None:
        raise Invalid(f"未知的社区「{code}」", fields={"community": ["未知的社区代码"]})
    return community


def create_user(username, role, password, display_name=None, street=None, community=None,
                department=None):
    """Create a staff user, or update the existing one with that username (idempotent; the CLI and the seed)."""
    return save_account(SYSTEM, username, role, password, display_name, street=street, community=community,
                        department=department, update=True)


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_scope(scope):
    """district, street:CODE or community:CODE → (street, community)."""
    kind, _, code = scope.partition(":")
    if kind == "district" and not code:
        return None, None
    if kind == "street" and code:
        return by_code(Street, code, "街道"), None
    if kind == "community" and code:
        return None, by_code(Community, code, "社区")
    raise Invalid("scope 应为 district、street:CODE 或 community:CODE")


def create_token(name, scope, kind="api"):
    """Issue a token (or an Open311 key): the raw value is returned once, only its hash is kept."""
    if not 1 <= len(name) <= MAX_TOKEN_NAME:
        raise Invalid(f"令牌名称应为 1 到 {MAX_TOKEN_NAME} 个字符")
    if db.session.scalar(select(ApiToken).where(ApiToken.name == name)):
        raise Invalid(f"令牌「{name}」已存在；先撤销或换一个名字")
    street, community = parse_scope(scope)
    raw = PREFIXES[kind] + secrets.token_urlsafe(32)
    token = ApiToken(name=name, scope=scope, kind=kind, token_hash=_hash(raw), prefix=raw[:10],
                     street_id=street.id if street else None,
                     community_id=community.id if community else None)
    db.session.add(token)
    db.session.commit()
    return token, raw


def revoke_token(name, kind="api"):
    """Revoke a token by name; revoking twice is harmless."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == name, ApiToken.kind == kind))
    if token is None:
        raise NotFound(f"找不到令牌「{name}」")
    already = token.revoked_at is not None
    if not already:
        token.revoked_at = clock_now()
        db.session.commit()
        _principals.forget(token.token_hash)
    return token, already


def token_for(raw, kind="api"):
    """The live token of this kind matching a raw value, or None."""
    if not raw or not raw.startswith(PREFIXES[kind]):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw), ApiToken.kind == kind))
    return token if token and token.revoked_at is None else None


# Every API call names its token: remember who it is for TOKEN_CACHE_SECONDS, which is therefore
# also how long a revocation takes to reach the other workers.
_principals = TtlCache("TOKEN_CACHE_SECONDS")


def principal_for_bearer(raw, kind="api"):
    """The caller behind a raw bearer value (or Open311 api_key), or None when it names no live one."""
    if not raw or not raw.startswith(PREFIXES[kind]):
        return None

    def load():
        token = token_for(raw, kind)
        return Principal.from_token(token) if token else None
    return _principals.get(_hash(raw), load)


def _window_start():
    return clock_now() - timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])


def login_locked(username, ip):
    """True when too many recent failures came for this username or from this address."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    since = _window_start()
    by_name = select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since)
    by_ip = select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since)
    # An address gets more room than a name: an office may share one address.
    return db.session.scalar(by_name) >= limit or db.session.scalar(by_ip) >= limit * 4


def record_login(username, ip, ok):
    """Remember a failure; a success clears that username's failures."""
    if ok:
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    else:
        db.session.add(LoginFailure(username=username, ip=ip, at=clock_now()))
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < _window_start() - timedelta(days=1)))
    db.session.commit()


def authenticate(username, password):
    """The active user with that username and password, or None."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def communities_in_scope(principal):
    """The communities a caller may see, in street and code order."""
    query = select(Community).join(Street).order_by(Street.code, Community.code)
    if principal.community_id:
        query = query.where(Community.id == principal.community_id)
    elif principal.street_id:
        query = query.where(Community.street_id == principal.street_id)
    elif principal.role in (Role.DEPARTMENT_USER, Role.VOLUNTEER):
        query = query.where(false())
    return db.session.scalars(query).all()
