"""The ?page= argument of list pages, read so that no value can break the query."""

from __future__ import annotations

from flask import request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from pdtracker.extensions import db

# Far beyond any real list; keeps OFFSET inside a 64-bit integer on every database.
MAX_PAGE = 10_000


def page_number() -> int:
    """The requested page, 1 when absent or not a number, clamped to 1..MAX_PAGE."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def paginate(stmt: Select, per_page: int) -> Pagination:
    """One page of stmt for the requested page; past the end gives an empty page."""
    return db.paginate(stmt, page=page_number(), per_page=per_page, error_out=False)
