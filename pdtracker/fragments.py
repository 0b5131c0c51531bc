"""Rendered parts of pages, reused while the data they show has not changed.

A list page renders the same rows for every request until one of them changes. The
change versions of :mod:`pdtracker.changes` say when that happens: every committed
change to a teacher's activities (their evidence included), placements and
registrations, and to the user fields that move or rename them, bumps the
teacher's feed state and their department's. A part of a page keyed on those
versions is therefore never served once its data has changed; it is simply not
asked for again and ages out of a small per-process LRU.

Reading the versions costs nothing on PostgreSQL while the worker's feed
directory is listening (:mod:`pdtracker.calendar.directory` forgets a version
when its NOTIFY arrives, and the worker's own commits at once); otherwise (SQLite,
or the listener not connected) it is one small query.

A cached part must not hold anything that belongs to one session or one moment:
CSRF tokens are rendered as a per-process placeholder and put back on every
request (:func:`render`); what depends on the clock must not be cached here.

:func:`cached` keeps one part drawn by a function. :class:`Parts` finds several
parts of a page at once (a list's rows, its filters, its pager) and lets the
template draw only the missing ones and hand them back; their keys hold
everything each part is drawn from. Small parts are kept apart from whole bodies,
so that a page of rows does not push the bodies out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, NamedTuple

from flask import current_app, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select

from pdtracker.caching import LRU, per_app
from pdtracker.calendar import directory
from pdtracker.calendar.models import FeedState
from pdtracker.extensions import db

__all__ = ["Parts", "cached", "finish", "render", "versions"]

ENTRIES = 512  # rendered parts per worker (a list page's part is 5-60 KB)
SMALL_ENTRIES = 2048  # small parts per worker (a list's row, filters, pager: ~1 KB)
# Stands in for the CSRF token in a cached part; random, so no content can forge it.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
_EXTENSION = "pdtracker_fragments"
_SMALL_EXTENSION = "pdtracker_fragments_small"


class _Version(NamedTuple):
    """A feed's change version as the feed directory remembers it."""

    feed_key: str
    version: int | None


def versions(feed_keys: Sequence[str]) -> tuple[int | None, ...]:
    """The change versions of these feeds (None: never changed), in their order."""
    found = directory.current()
    known: dict[str, int | None] = {}
    if found is not None:
        for key in feed_keys:
            handle = found.get(("version", key))
            if handle is not None:
                known[key] = handle.version
    missing = [key for key in feed_keys if key not in known]
    if missing:
        epoch = found.epoch() if found is not None else None  # before the query
        query = select(FeedState.feed_key, FeedState.version).where(
            FeedState.feed_key.in_(missing)
        )
        rows: dict[str, int] = {key: v for key, v in db.session.execute(query)}
        for key in missing:
            known[key] = rows.get(key)
            if found is not None:
                found.put(("version", key), _Version(key, known[key]), epoch)
    return tuple(known[key] for key in feed_keys)


def _store() -> LRU[Hashable, str]:
    return per_app(current_app, _EXTENSION, lambda: LRU(ENTRIES))


def _small_store() -> LRU[Hashable, str]:
    return per_app(current_app, _SMALL_EXTENSION, lambda: LRU(SMALL_ENTRIES))


def cached(key: Hashable, feed_keys: Sequence[str], make: Callable[[], str]) -> Markup:
    """The part under ``key`` while these feeds are unchanged, else ``make()``'s.

    ``make`` returns HTML rendered with :func:`render` (or without any CSRF token).
    """
    full = (key, tuple(feed_keys), versions(feed_keys))
    store = _store()
    html = store.get(full)
    if html is None:
        html = make()
        store.put(full, html)
    return finish(html)


def finish(html: str) -> Markup:
    """A part rendered with :func:`render`, with this session's CSRF token in it."""
    if CSRF_PLACEHOLDER not in html:  # most parts hold no form
        return Markup(html)
    return Markup(html.replace(CSRF_PLACEHOLDER, generate_csrf()))


def render(template: str, **context: Any) -> str:
    """A template rendered for caching: its ``csrf_token()`` is the placeholder.

    The template imports the macros that ask for a token ``with context``, so they
    see this ``csrf_token`` instead of Flask-WTF's global.
    """
    return render_template(template, csrf_token=lambda: CSRF_PLACEHOLDER, **context)


class Parts:
    """Small parts of one page, each kept under its own key, found in one go.

    ``keys`` maps each part's name to the key it is kept under, which must hold
    everything the part is drawn from (a change version when it shows stored
    data). :meth:`get` gives a kept part, else None: the template then draws it
    and hands it to :meth:`keep`. Parts rendered with :func:`render` get this
    session's CSRF token back.
    """

    def __init__(self, keys: Mapping[Hashable, Hashable]) -> None:
        self._keys = keys
        self._store = _small_store()
        self._kept: dict[Hashable, str] = {}
        for name, key in keys.items():
            found = self._store.get(key)
            if found is not None:
                self._kept[name] = found

    @property
    def missing(self) -> list[Hashable]:
        """The names of the parts that are not kept (yet)."""
        return [name for name in self._keys if name not in self._kept]

    def get(self, name: Hashable) -> Markup | None:
        """The kept part called ``name``, if it is kept."""
        found = self._kept.get(name)
        return None if found is None else finish(found)

    def keep(self, name: Hashable, html: str) -> Markup:
        """Keep a freshly drawn part and give it back (as the template shows it)."""
        self._store.put(self._keys[name], str(html))
        self._kept[name] = str(html)
        return finish(html)
