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
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    FORCE_HTTPS = False
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_FOLDER: str | None = None  # None → <instance>/uploads
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default: n=2**15, r=8, p=1
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_WINDOW = timedelta(minutes=15)
    PUBLIC_BASE_URL: str | None = None  # used in feed links; None → request host
    FEED_DOMAIN = "pdtracker.local"


def database_url_from_env() -> str | None:
    """Return the SQLAlchemy URL from DATABASE_URL, normalised for psycopg 3."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
