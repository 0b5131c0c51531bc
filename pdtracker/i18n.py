"""Locale and time-zone selection: the user's settings, else Chinese and Asia/Shanghai."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else Chinese."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The signed-in user's time zone, else Asia/Shanghai."""
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
