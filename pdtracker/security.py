"""Security headers on every response (Flask-Talisman), and no caching of private ones."""

from __future__ import annotations

from flask import Flask, Response, request, session

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
    app.after_request(no_store_private)


NO_STORE = "private, no-store"


def no_store_private(response: Response) -> Response:
    """``Cache-Control: private, no-store`` on every signed-in page and every download.

    A shared computer's browser cache, or a proxy, must not keep a teacher's
    records or a department's export. Static files stay cacheable, and so does a
    response whose view chose its own caching lifetime (the calendar feeds send
    ``public``/``private, max-age=…`` with an ETag, so calendar apps can poll them
    cheaply).
    """
    if request.endpoint == "static" or _chose_own_lifetime(response):
        return response
    if _signed_in() or _is_download(response):
        response.headers["Cache-Control"] = NO_STORE
        response.headers.pop("Expires", None)
    return response


def _signed_in() -> bool:
    # The session, not current_user: loading the user here would query the
    # database on every response, even on an error page after it went away.
    return session.get("_user_id") is not None


def _is_download(response: Response) -> bool:
    return response.headers.get("Content-Disposition", "").startswith("attachment")


def _chose_own_lifetime(response: Response) -> bool:
    cache = response.cache_control
    return bool(cache.max_age) and (cache.public or cache.private is not None)
