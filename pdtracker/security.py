"""Security headers on every response (Flask-Talisman)."""

from __future__ import annotations

from flask import Flask

from pdtracker.extensions import talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def init_security(app: Flask) -> None:
    """Apply CSP, nosniff, referrer policy and cookie flags."""
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    talisman.init_app(
        app,
        force_https=bool(app.config.get("FORCE_HTTPS")),
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
