"""Locale and time-zone selection: the user's settings, else Chinese and Asia/Shanghai."""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel.dates import format_date as babel_format_date
from flask import Flask, current_app, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    get_locale,
    get_timezone,
)
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
    """Flask-Babel's ``dateformat`` filter, memoized.

    A list page formats the same few dates row after row; a plain date depends on
    the language only, a datetime also on the user's zone (both are in the key).
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _format_moment("date", value, format, str(get_locale()), _zone())
    if not isinstance(value, date):
        return format_date(value, format)
    return _format_day(value, format, str(get_locale()))


def time_format(value: datetime | None, format: str = "medium") -> str:  # noqa: A002
    """Flask-Babel's ``timeformat`` filter, memoized for datetimes (see below).

    Anything else (``None`` means now to Flask-Babel) goes to Flask-Babel as before.
    """
    if not isinstance(value, datetime):
        return format_time(value, format)
    return _format_moment("time", value, format, str(get_locale()), _zone())


def datetime_format(value: datetime | None, format: str = "medium") -> str:  # noqa: A002
    """Flask-Babel's ``datetimeformat`` filter, memoized for datetimes (see below)."""
    if not isinstance(value, datetime):
        return format_datetime(value, format)
    return _format_moment("datetime", value, format, str(get_locale()), _zone())


def _zone() -> str:
    return str(get_timezone())


_FORMATTERS = {"date": format_date, "time": format_time, "datetime": format_datetime}


@functools.lru_cache(maxsize=4096)
def _format_moment(
    kind: str,
    value: datetime,
    format: str,  # noqa: A002
    locale: str,
    zone: str,
) -> str:
    # A moment's text depends on the instant, the language and the user's zone
    # (the key: Flask-Babel reads the last two from the request, which set them).
    # A naive datetime never equals an aware one, so it keeps its own entry.
    return _FORMATTERS[kind](value, format)


@functools.lru_cache(maxsize=4096)
def _format_day(value: date, format: str, locale: str) -> str:  # noqa: A002
    return babel_format_date(value, format, locale=locale)


def init_formats(app: Flask) -> None:
    """Install the memoized date and time filters over Flask-Babel's."""
    app.jinja_env.filters["dateformat"] = date_format
    app.jinja_env.filters["timeformat"] = time_format
    app.jinja_env.filters["datetimeformat"] = datetime_format
