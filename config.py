"""Configuration classes, read from the environment once, when the app is created."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name, default):
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url):
    """Make postgres:// and postgresql:// URLs use the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment; each can be overridden by an environment variable."""

    def __init__(self):
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-change-me")
        default_db = f"sqlite:///{INSTANCE_DIR / 'dispatch.sqlite'}"
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL", default_db))
        # Recycle instead of pinging: a ping is a round trip on every checkout, on every request.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": int(os.environ.get("DB_POOL_RECYCLE", 1800))}
        # Per-worker caches: how long a category or community edit, or a token revocation, may take to apply.
        self.REFERENCE_CACHE_SECONDS = float(os.environ.get("REFERENCE_CACHE_SECONDS", 30))
        self.TOKEN_CACHE_SECONDS = float(os.environ.get("TOKEN_CACHE_SECONDS", 5))
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024))
        self.MAX_JSON_BYTES = int(os.environ.get("MAX_JSON_BYTES", 64 * 1024))
        self.MEDIA_DIR = os.environ.get("MEDIA_DIR", str(INSTANCE_DIR / "media"))
        self.MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_BYTES", 10 * 1024 * 1024))
        # The ffmpeg that makes residents' WeChat voices (AMR) playable in the browser: a name on PATH or a path.
        self.FFMPEG = os.environ.get("FFMPEG", "ffmpeg")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds it; an expiring form loses a typed call
        self.LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
        self.LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15))
        self.PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")
        self.DEMO_DATA_ALLOWED = _bool("DEMO_DATA_ALLOWED", True)
        self.SQLALCHEMY_ECHO = _bool("SQLALCHEMY_ECHO", False)
        # WeChat: every outbound call starts from these, so tests and the demo use a local stub.
        self.WECHAT_API_BASE_URL = os.environ.get("WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
        self.WECHAT_OPEN_BASE_URL = os.environ.get("WECHAT_OPEN_BASE_URL", "https://open.weixin.qq.com")
        self.WECHAT_HTTP_TIMEOUT = float(os.environ.get("WECHAT_HTTP_TIMEOUT", 10))
        self.WECHAT_MAX_BODY_BYTES = int(os.environ.get("WECHAT_MAX_BODY_BYTES", 64 * 1024))
        self.WECHAT_DRAFT_MINUTES = int(os.environ.get("WECHAT_DRAFT_MINUTES", 10))
        # A volunteer's task not signed for (签收) within this many minutes is taken back to the director.
        self.VOLUNTEER_SIGN_MINUTES = int(os.environ.get("VOLUNTEER_SIGN_MINUTES", 30))
        # An urgent ticket put to the person on duty (值班) outside office hours goes up the chain (the next on
        # duty, the community's director, the street's supervisor) when not signed for within this many minutes.
        self.DUTY_ESCALATE_MINUTES = int(os.environ.get("DUTY_ESCALATE_MINUTES", 10))
        # Likely duplicates: open tickets of the same community and category opened within this many days.
        self.DUPLICATE_WINDOW_DAYS = int(os.environ.get("DUPLICATE_WINDOW_DAYS", 7))
        # An open console queue asks this often (seconds) whether tickets in its scope changed (make bench: 50 of them).
        self.QUEUE_POLL_SECONDS = int(os.environ.get("QUEUE_POLL_SECONDS", 15))
        # A resolved ticket the resident has not rated closes by itself this many calendar days (24 h each)
        # after its resolution (the auto-close job); 0 keeps it open until someone rates or closes it.
        self.AUTO_CLOSE_DAYS = int(os.environ.get("AUTO_CLOSE_DAYS", 7))
        self.WECHAT_TRIAGE_COMMUNITY = os.environ.get("WECHAT_TRIAGE_COMMUNITY")  # district account, no community
        self.WECHAT_STUB = _bool("WECHAT_STUB", False)  # serve a fake WeChat API under /_stub/wechat (demo)
        # Load the classifier's dictionary (~1 s) when a server starts (gunicorn, flask run), not on the first
        # note a worker answers; other flask commands never load it up front.
        self.PRELOAD_CLASSIFIER = _bool("PRELOAD_CLASSIFIER", True)
        # Where residents and WeChat reach this server; unset, the local one on PORT (`make run PORT=5001`).
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or 5000}")
        self.BASE_URLS_FROM_REQUEST = False  # development: links follow the request's address (dispatch.urls)
        # Notifications: residents' non-urgent messages wait out the quiet hours; failed sends back off.
        self.NOTIFY_QUIET_HOURS = os.environ.get("NOTIFY_QUIET_HOURS", "22:00-07:00")
        self.NOTIFY_THREADS = int(os.environ.get("NOTIFY_THREADS", 8))  # parallel sends per delivery process
        self.NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", 8))
        self.NOTIFY_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", 30))
        self.NOTIFY_RETRY_MAX_SECONDS = float(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", 3600))
        # Shared access tokens: in the database unless a Redis URL is given.
        self.WECHAT_TOKEN_REDIS_URL = os.environ.get("WECHAT_TOKEN_REDIS_URL") or None
        # Open311: who may read requests without an api_key: "open311" (those that came in through Open311),
        # "all" (every ticket, as many cities publish) or "none" (a key is needed to read, too).
        self.OPEN311_PUBLIC_READ = os.environ.get("OPEN311_PUBLIC_READ", "open311")
        if self.OPEN311_PUBLIC_READ not in ("open311", "all", "none"):
            raise RuntimeError("OPEN311_PUBLIC_READ must be open311, all or none")
        # What discovery says: the endpoint's type (production or test), whom to ask, how to get a key.
        self.OPEN311_ENDPOINT_TYPE = os.environ.get("OPEN311_ENDPOINT_TYPE", "production")
        self.OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT")
        self.OPEN311_KEY_SERVICE = os.environ.get("OPEN311_KEY_SERVICE")
        # The district's office hours for working-time SLA clocks; a community may set its own.
        self.SLA_OFFICE_HOURS = os.environ.get("SLA_OFFICE_HOURS", "08:30-12:00,13:30-17:30")


class DevelopmentConfig(Config):
    """`make run` on a laptop: plain HTTP on 127.0.0.1, so cookies cannot require HTTPS."""

    def __init__(self):
        super().__init__()
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # The demo has no WeChat: the app serves a stub of its API and the simulator page talks to it.
        self.WECHAT_STUB = _bool("WECHAT_STUB", True)
        # Without PUBLIC_BASE_URL, links made in a request use the address the browser used (any port).
        self.BASE_URLS_FROM_REQUEST = "PUBLIC_BASE_URL" not in os.environ
        stub = self.PUBLIC_BASE_URL.rstrip("/") + "/_stub/wechat"
        self.WECHAT_API_BASE_URL = os.environ.get("WECHAT_API_BASE_URL", stub if self.WECHAT_STUB else
                                                  self.WECHAT_API_BASE_URL)
        self.WECHAT_OPEN_BASE_URL = os.environ.get("WECHAT_OPEN_BASE_URL", stub if self.WECHAT_STUB else
                                                   self.WECHAT_OPEN_BASE_URL)


class ProductionConfig(Config):
    """Behind gunicorn and HTTPS; refuses to start with the development secret."""

    def __init__(self):
        super().__init__()
        if self.SECRET_KEY == "dev-only-secret-change-me":
            raise RuntimeError("SECRET_KEY must be set in production")
        # seed-demo resets the demo users' passwords to published ones: never on a real database.
        self.DEMO_DATA_ALLOWED = _bool("DEMO_DATA_ALLOWED", False)


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL or a throwaway SQLite file, CSRF on as in production."""

    def __init__(self):
        super().__init__()
        self.TESTING = True
        self.PRELOAD_CLASSIFIER = False  # a test app serves no one; the first test to classify loads it
        self.REFERENCE_CACHE_SECONDS = 0
        self.TOKEN_CACHE_SECONDS = 0
        self.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # scrypt costs ~0.1 s a user; tests make hundreds
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        url = os.environ.get("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.sqlite"))
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(url)


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def load_config(name=None):
    """Build the config object named by DISPATCH_ENV (development by default)."""
    name = name or os.environ.get("DISPATCH_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"DISPATCH_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
