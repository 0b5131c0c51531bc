"""The shared LRU: bounds, recency, expiry, eviction notices, one per app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from pdtracker.caching import LRU, per_app

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_least_recently_used_goes_first_and_is_reported() -> None:
    evicted: list[tuple[str, int]] = []
    lru: LRU[str, int] = LRU(2, on_evict=lambda k, v: evicted.append((k, v)))
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert evicted == [("b", 2)]
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
    assert lru.pop("a") == 1
    assert evicted == [("b", 2)]  # pop is not an eviction
    assert len(lru) == 1


def test_an_expired_entry_misses_and_is_dropped() -> None:
    lru: LRU[str, int] = LRU(4)
    lru.put("a", 1, expires=NOW)
    assert lru.get("a", NOW) == 1  # up to and including its expiry
    assert lru.get("a", NOW + timedelta(seconds=1)) is None
    assert len(lru) == 0


def test_per_app_makes_one_object_per_app() -> None:
    first, second = SimpleNamespace(extensions={}), SimpleNamespace(extensions={})
    made = per_app(first, "x", lambda: LRU(1))  # type: ignore[arg-type]
    assert per_app(first, "x", lambda: LRU(1)) is made  # type: ignore[arg-type]
    assert per_app(second, "x", lambda: LRU(1)) is not made  # type: ignore[arg-type]


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    lru: LRU[str, int] = LRU(0)
    lru.put("a", 1)
    assert (lru.get("a"), len(lru)) == (None, 0)
