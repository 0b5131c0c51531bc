"""Default configuration; the environment (PDTRACKER_*, DATABASE_URL) overrides it."""

from __future__ import annotations

import os
from datetime import timedelta


class Config:
    """Defaults only: secrets come from the environment or the instance folder."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = (
        None  # None → SQLite under the instance folder
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    TIMEZONE = "Asia/Shanghai"
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # REMEMBER_COOKIE_SECURE, _HTTPONLY and _SAMESITE follow the SESSION_COOKIE_*
    # settings unless set themselves (see derive_settings).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    FORCE_HTTPS = False
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_FOLDER: str | None = None  # None → <instance>/uploads
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default: n=2**15, r=8, p=1
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host
    # (1 for nginx → gunicorn). 0: those headers are the client's own claims, ignored.
    # docs/deployment.md D9.
    TRUSTED_PROXIES = 0
    # Login throttling (auth/throttle.py): that many failures go through at once,
    # per account and per client address; then each attempt waits LOGIN_DELAY,
    # doubling per further failure up to LOGIN_MAX_DELAY. The right password still
    # works once the wait is over. Failures leak away: the free number per LOGIN_WINDOW.
    # Durations may be given in seconds (PDTRACKER_LOGIN_DELAY=30).
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_DELAY = timedelta(seconds=30)
    LOGIN_MAX_DELAY = timedelta(minutes=15)
    LOGIN_WINDOW = timedelta(minutes=15)
    # Forgotten passwords: link life, and requests per typed login and per address
    # before the same growing delay applies.
    PASSWORD_RESET_LIFETIME = timedelta(minutes=30)
    PASSWORD_RESET_MAX_PER_ACCOUNT = 3
    PASSWORD_RESET_MAX_PER_ADDRESS = 10
    PUBLIC_BASE_URL: str | None = None  # feed and reset links; None → request host
    # Compiled templates on disk, shared by the workers and kept across restarts, so a
    # new or recycled worker does not compile each page's templates on its first
    # views (40-70 ms for the department page). None → <instance>/jinja-cache; "" → off.
    TEMPLATE_CACHE_DIR: str | None = None
    # The deployment's own domain (e.g. "example.edu.cn"): feed UIDs read
    # "event-42@pdtracker.<FEED_DOMAIN>" and must never change once published.
    FEED_DOMAIN = "localhost"
    ASSOCIATION_NAME = (
        "区域人工智能产业协会"  # organizer of association events and their credits
    )
    IMPORT_ALLOW_PRIVATE = (
        False  # True lets calendar imports fetch private/loopback URLs
    )
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    # One wall-clock budget (seconds) for a whole calendar import: fetch, parse,
    # recurrence checks, store. Past it nothing is stored and the import is too_slow.
    IMPORT_TIME_BUDGET = 15
    IMPORT_FETCH_TIMEOUT = 10  # seconds; never more than what is left of the budget
    LOG_JSON = False  # PDTRACKER_LOG_JSON=true: one JSON object per log line
    # Calendar feeds: the span they cover around today and the refresh clients are told.
    FEED_PAST_DAYS = 60
    FEED_FUTURE_DAYS = 548  # about 18 months
    FEED_REFRESH = timedelta(hours=6)
    # PostgreSQL: each worker remembers which feed a URL opens and is told by
    # LISTEN/NOTIFY when that changes (calendar/directory.py). False behind a pooler
    # in transaction mode, where LISTEN cannot work: every feed request then queries.
    # docs/deployment.md D6.
    FEED_LISTEN = True
    FEED_DIRECTORY_SIZE = 50_000  # remembered URLs per worker (~1 KB each)
    # Outgoing mail; without MAIL_SERVER notifications are in-app only.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # implicit TLS (port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "pdtracker <noreply@pdtracker.local>"
    MAIL_TIMEOUT = 30  # seconds
    # The scheduler process (`flask scheduler`); durations in seconds.
    SCHEDULER_HEARTBEAT_MAX_AGE = 180  # /healthz calls an older heartbeat stale
    SCHEDULER_FAST = False  # every tick every few seconds (tests and demos only)
    SCHEDULER_LOCK_FILE: str | None = None  # SQLite: None → beside the database
    NOTIFICATION_LEASE = 300  # a claim expires after this; then it may be retried
    NOTIFICATION_BATCH = 100  # rows claimed per dispatch transaction
    NOTIFICATION_MAX_ATTEMPTS = 5  # e-mail tries before giving up on the e-mail
    SCHEDULER_RUNS_KEEP_DAYS = 30


def derive_settings(config: dict) -> None:
    """Settings that follow others, once the environment and overrides are read.

    The remember-me cookie gets the session cookie's flags: with
    PDTRACKER_SESSION_COOKIE_SECURE=true it must not travel over plain HTTP either
    (docs/deployment.md D10).
    """
    for flag in ("SECURE", "HTTPONLY", "SAMESITE"):
        config.setdefault(f"REMEMBER_COOKIE_{flag}", config[f"SESSION_COOKIE_{flag}"])


def database_url_from_env() -> str | None:
    """Return the SQLAlchemy URL from DATABASE_URL, normalised for psycopg 3."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
