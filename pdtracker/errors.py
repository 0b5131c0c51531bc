"""Error pages: 400/403/404/413/429/500 rendered in the user's language."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PAGES = (400, 403, 404, 405, 413, 429, 500)


def register_error_handlers(app: Flask) -> None:
    """Render our own page for common HTTP errors."""
    app.register_error_handler(CSRFError, _csrf_error)
    for code in PAGES:
        app.register_error_handler(code, _http_error)


def _http_error(error: HTTPException):  # noqa: ANN202
    code = error.code or 500
    return render_template("errors/error.html", code=code, error=error), code


def _csrf_error(error: CSRFError):  # noqa: ANN202
    return render_template("errors/error.html", code=400, error=error, csrf=True), 400
