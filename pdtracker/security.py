"""Security headers on every response, and no caching of private ones.

The headers are those Flask-Talisman sent with the options below (tests compare
them with Talisman's, byte for byte), built once per app instead of per response:
Talisman re-reads its per-view options three times and re-joins the policy on
every response, about a seventh of the app's work for a calendar feed's 304.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, redirect, request, session
from flask_talisman import DENY
from werkzeug.wrappers import Response as WerkzeugResponse

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


PERMISSIONS_POLICY = {"geolocation": "()", "camera": "()", "microphone": "()"}
REFERRER_POLICY = "strict-origin-when-cross-origin"
# HSTS on HTTPS responses once cookies are secure: Talisman's year (365.2422 days),
# subdomains included.
HSTS = "max-age=31556926; includeSubDomains"


def init_security(app: Flask) -> None:
    """Apply CSP, nosniff, referrer policy, HSTS and cookie flags."""
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("FORCE_HTTPS"):
        app.before_request(_to_https(app))
    app.after_request(_security_headers(secure))
    app.after_request(no_store_private)


def header_values() -> tuple[tuple[str, str], ...]:
    """The headers of every response, in the order they are set."""
    return (
        (
            "Permissions-Policy",
            ", ".join(f"{k}={v}" for k, v in PERMISSIONS_POLICY.items()),
        ),
        ("X-Frame-Options", DENY),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in CSP.items())),
    )


def _security_headers(hsts: bool) -> Callable[[Response], Response]:
    fixed = header_values()

    def set_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in fixed:
            headers[name] = value
        if hsts and _over_https():
            headers["Strict-Transport-Security"] = HSTS
        headers["Referrer-Policy"] = REFERRER_POLICY
        return response

    return set_headers


def _over_https() -> bool:
    return request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"


def _to_https(app: Flask) -> Callable[[], WerkzeugResponse | None]:
    def redirect_to_https() -> WerkzeugResponse | None:
        # Not in debug (the development server speaks plain HTTP), nor behind a
        # proxy that says the client used HTTPS.
        if app.debug or _over_https():
            return None
        if request.url.startswith("http://"):
            return redirect(request.url.replace("http://", "https://", 1), code=302)
        return None

    return redirect_to_https


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
