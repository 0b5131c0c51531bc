"""URL converters: an ``<int:...>`` id that no table can hold is simply not found.

Every primary key is a 32-bit ``INTEGER`` on PostgreSQL, and SQLite refuses any
Python int beyond 64 bits. Left to werkzeug's converter, ``/activities/99…9``
reached the database and failed there (a 500, and on PostgreSQL a broken
transaction). Replacing the ``int`` converter app-wide bounds every id route at
once, including routes added later: a larger number does not match, so 404.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

# PostgreSQL INTEGER, the type of every id column (and well inside SQLite's range).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """werkzeug's int converter, with the largest value a database id can take."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_routing(app: Flask) -> None:
    """Use IdConverter for ``<int:...>``; call before the blueprints register."""
    app.url_map.converters["int"] = IdConverter


def id_value(text: str) -> int:
    """A query-string id (``request.args.get("x", type=id_value)``): None if out of range.

    werkzeug turns the ValueError into the argument's default.
    """
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError(text)
    return value
