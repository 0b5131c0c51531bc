"""Error pages: 400/403/404/413/429/500 rendered in the user's language.

An error page must never fail itself: a failure while rendering it left the user
with an empty page. So the full page (navigation bar and all) is tried first,
after rolling back whatever the failed request left in the session (on
PostgreSQL a failed statement aborts the transaction, and the navigation bar's
badge counts would fail next). If that fails too (the database is gone), a
plain page that needs neither the database nor the signed-in user is shown, and
if even that fails, a fixed bilingual text.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request, session, url_for
from flask_babel import force_locale
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from pdtracker.extensions import db

PAGES = (400, 403, 404, 405, 413, 429, 500)

LAST_RESORT = (
    "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
    "<title>{code} · pdtracker</title></head><body><h1>{code}</h1>"
    "<p>出错了，请稍后再试。 Something went wrong. Please try again later.</p>"
    "<p><a href='/'>返回首页 · Back to the start page</a></p></body></html>"
)


def register_error_handlers(app: Flask) -> None:
    """Render our own page for common HTTP errors."""
    app.register_error_handler(CSRFError, _csrf_error)
    for code in PAGES:
        app.register_error_handler(code, _http_error)


def _http_error(error: HTTPException):
    code = error.code or 500
    if code == 413:
        return render_error(code, error=error, **_too_large()), code
    return render_error(code, error=error), code


def _too_large() -> dict:
    """A body over MAX_CONTENT_LENGTH: the file limit, and the form to go back to.

    The limit shown is the one for files (evidence, reports), which the upload
    fields also announce; the request limit sits a little above it for the form.
    """
    mib = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    back = request.referrer or ""
    if not back.startswith(request.host_url):
        back = url_for("main.index")
    return {"mib": mib, "back": back}


def _csrf_error(error: CSRFError):
    return render_error(400, error=error, csrf=True), 400


def render_error(code: int, **context: object) -> str:
    """The error page's HTML; never raises."""
    if code >= 500:
        _rollback()
    try:
        return render_template("errors/error.html", code=code, **context)
    except Exception:  # noqa: BLE001  (any failure here must still give a page)
        current_app.logger.exception("the %s page failed; showing the plain one", code)
        _rollback()
    try:
        # Straight from the environment: the context processors would load the
        # signed-in user (a database query).
        template = current_app.jinja_env.get_template("errors/plain.html")
        with force_locale(_locale_without_user()):
            return template.render(code=code, **context)
    except Exception:  # noqa: BLE001
        current_app.logger.exception("the plain %s page failed too", code)
        return LAST_RESORT.format(code=escape(str(code)))


def _rollback() -> None:
    """Drop the failed request's transaction so the page may read the database."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (the database may be gone: the plain page copes)
        current_app.logger.warning("rollback before the error page failed")


def _locale_without_user() -> str:
    """The language chosen in the session or the browser; never reads the database."""
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"])
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]
