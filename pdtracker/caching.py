"""The app's in-memory caches: one bounded LRU map, and a home for it on each app.

Every cache here is per process (each gunicorn worker warms its own) and per app
(tests build many apps in one process). None of them decides freshness by itself:
callers key their entries on what the value depends on (a change version, the
local date, a ruleset version), so a stale entry is simply never asked for again
and ages out. Entries may also carry an expiry for what no key can express (a
registered event's end).

Built on :class:`cachetools.LRUCache`; the lock makes each operation atomic for
the threads of one worker. Pure functions of their arguments use
:func:`functools.lru_cache` instead (a template global, a ZoneInfo lookup).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import cachetools

if TYPE_CHECKING:
    from flask import Flask

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

__all__ = ["LRU", "per_app"]


class _Evicting(cachetools.LRUCache[K, tuple[V, datetime | None]]):
    """cachetools' LRU, telling the owner which entry it evicted for room."""

    def __init__(self, maxsize: int, on_evict: Callable[[K, V], None] | None) -> None:
        super().__init__(maxsize)
        self._on_evict = on_evict

    def popitem(self) -> tuple[K, tuple[V, datetime | None]]:
        key, entry = super().popitem()
        if self._on_evict is not None:
            self._on_evict(key, entry[0])
        return key, entry


class LRU(Generic[K, V]):
    """A bounded least-recently-used map that threads may share.

    ``put`` may give an entry an expiry; ``get(key, now)`` then misses, and drops
    the entry, once ``now`` is past it. ``on_evict`` hears of entries evicted to
    make room (not of those removed by ``pop`` or ``clear``); it runs under the
    cache's lock and must not call back into the cache.
    """

    def __init__(
        self, maxsize: int, *, on_evict: Callable[[K, V], None] | None = None
    ) -> None:
        self.maxsize = maxsize
        self._data: MutableMapping[K, tuple[V, datetime | None]] = _Evicting(
            maxsize, on_evict
        )
        self._lock = threading.Lock()

    def get(self, key: K, now: datetime | None = None) -> V | None:
        """The value under key, if present and not expired at ``now`` (≤ expiry)."""
        with self._lock:
            found = self._data.get(key)  # a hit makes the entry the most recent
            if found is None:
                return None
            value, expires = found
            if expires is not None and now is not None and now > expires:
                del self._data[key]
                return None
            return value

    def put(self, key: K, value: V, expires: datetime | None = None) -> None:
        """Store a value (until ``expires``), evicting the least recently used."""
        if self.maxsize <= 0:  # a cache sized 0 keeps nothing (cachetools would raise)
            return
        with self._lock:
            self._data[key] = (value, expires)

    def pop(self, key: K) -> V | None:
        """Remove and return the value under key, if any."""
        with self._lock:
            found = self._data.pop(key, None)
            return None if found is None else found[0]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_CREATE_LOCK = threading.Lock()


def per_app(app: Flask, name: str, make: Callable[[], T]) -> T:
    """The app's object called ``name`` (in ``app.extensions``), made on first use.

    One per app and process: a worker forked after the app was built starts from
    a copy of what its parent held, which is as valid as the parent's.
    """
    extensions: dict[str, Any] = app.extensions
    found = extensions.get(name)
    if found is None:
        with _CREATE_LOCK:
            found = extensions.get(name)
            if found is None:
                found = extensions[name] = make()
    return cast(T, found)
