"""Locale and time-zone selection: the user's settings, else Chinese and Asia/Shanghai."""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from flask import Flask, current_app, request, session
from flask_babel import format_date, get_locale
from flask_login import current_user


def select_locale() -> str:
    """The signed-in user's language, else the session's choice, else Chinese."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The signed-in user's time zone, else Asia/Shanghai."""
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def date_format(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002
    """Flask-Babel's ``dateformat`` filter, memoized for plain dates.

    A list page formats the same few dates row after row; a plain date depends on
    the language only (a datetime also on the zone, so it goes to Flask-Babel).
    """
    if value is None:
        return ""
    if isinstance(value, datetime) or not isinstance(value, date):
        return format_date(value, format)
    return _format_day(value, format, str(get_locale()))


@functools.lru_cache(maxsize=4096)
def _format_day(value: date, format: str, locale: str) -> str:  # noqa: A002
    return babel_format_date(value, format, locale=locale)


def init_formats(app: Flask) -> None:
    """Install the memoized date filter over Flask-Babel's."""
    app.jinja_env.filters["dateformat"] = date_format
