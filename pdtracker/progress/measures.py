"""Measures as functions of the evaluation day, and the calendar they run on.

Every measure is a function of the evaluation date ``d`` (its window ends on ``d``).
Each one lists its *breakpoints*, the dates where its daily change may differ from
the day before; between two breakpoints the function is linear (constant for step
measures), so :func:`first_day` finds the first crossing of a threshold in a
segment arithmetically instead of walking day by day.

Pure: standard library only; days are date ordinals. The rules these implement
are docs/status-rules.md S1–S12 (window, measures, caps) and S16 (exact dates).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Protocol

from .definitions import ActivityFact, Measure, Requirement, Window


def add_years(d: date, years: int) -> date:
    """Shift by whole years; 29 February becomes 28 February in a common year.

    docs/status-rules.md S2.
    """
    year = d.year + years
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    try:
        return d.replace(year=year)
    except ValueError:
        return d.replace(year=year, day=28)


def window_for(as_of: date, years: int = 5) -> Window:
    """The ``years``-long window ending on ``as_of``, both ends inclusive (S1)."""
    start = add_years(as_of, -years)
    return Window(start if start == date.min else start + timedelta(days=1), as_of)


def add_months(d: date, months: int) -> date:
    """Shift by whole months, clamping the day to the month's end."""
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def month_end(d: date) -> date:
    """Last day of d's month."""
    return add_months(d.replace(day=1), 1) - timedelta(days=1)


# Horizons stop here, so that date arithmetic never leaves the calendar.
LAST_DAY = date(9000, 12, 31)


class WindowCalendar:
    """Window starts and their inverse on ordinals, cached per window length."""

    def __init__(self, years: int) -> None:
        self.years = years
        self._ws: dict[int, int] = {}
        # Activities' ends recur across requirements and teachers: one search each.
        self._reaches: dict[int, int] = {}
        self._limit = LAST_DAY.toordinal()

    def ws(self, d: int) -> int:
        """Ordinal of the window start for evaluation day ``d``."""
        got = self._ws.get(d)
        if got is None:
            if len(self._ws) > 100_000:  # bound the memo; recomputing is cheap
                self._ws.clear()
            start = window_for(date.fromordinal(d), self.years).start
            got = self._ws[d] = start.toordinal()
        return got

    def first_day_ws_reaches(self, x: int) -> int:
        """The first evaluation day whose window starts on or after day ``x``."""
        got = self._reaches.get(x)
        if got is None:
            if len(self._reaches) > 100_000:
                self._reaches.clear()
            got = self._reaches[x] = self._first_day_ws_reaches(x)
        return got

    def _first_day_ws_reaches(self, x: int) -> int:
        if x > self._limit:
            return date.max.toordinal()  # beyond any horizon, which ends by LAST_DAY
        c = add_years(date.fromordinal(x), self.years).toordinal() - 1
        # add_years clamps leap days, so nudge to the exact first day (±1 at most).
        while self.ws(c) < x:
            c += 1
        while self.ws(c - 1) >= x:
            c -= 1
        return c


def _irregular_days(lo: int, hi: int) -> Iterator[int]:
    """29 Feb, 1 and 2 Mar of each year: where the window start moves by 0 or 2 days."""
    for year in range(date.fromordinal(lo).year, date.fromordinal(hi).year + 1):
        first_march = date(year, 3, 1).toordinal()
        yield from (first_march - 1, first_march, first_march + 1)


# --- measures as functions of the evaluation day ----------------------------------


class Series(Protocol):
    linear: bool

    def value(self, d: int) -> int | float: ...

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]: ...


class _EndInWindow:
    """Count or sum over activities whose last day lies in the window (S7, S8)."""

    linear = False

    def __init__(
        self, cal: WindowCalendar, items: list[tuple[int, float]], summed: bool
    ) -> None:
        items.sort()
        self.cal, self.summed = cal, summed
        self.ends = [e for e, _ in items]
        self.weights = [w for _, w in items]

    def value(self, d: int) -> int | float:
        lo = bisect_left(self.ends, self.cal.ws(d))
        hi = bisect_right(self.ends, d)
        if not self.summed:
            return max(0, hi - lo)
        # fsum is exact and order-independent, so every path gives the same number.
        return math.fsum(self.weights[lo:hi]) if hi > lo else 0

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        # An end e leaves the window inside (lo, hi] only if ws(lo) <= e < ws(hi);
        # the margin merely adds harmless extra points.
        first, last = self.cal.ws(lo) - 2, self.cal.ws(hi) + 2
        for e in self.ends:
            yield e
            if first <= e <= last:
                yield self.cal.first_day_ws_reaches(e + 1)


class _ValidOn:
    """Activities valid on the day (start ≤ d ≤ end, no end = forever), S9."""

    linear = False

    def __init__(self, spans: list[tuple[int, int | None]]) -> None:
        self.starts = sorted(s for s, _ in spans)
        self.stops = sorted(e + 1 for _, e in spans if e is not None)

    def value(self, d: int) -> int:
        return bisect_right(self.starts, d) - bisect_right(self.stops, d)

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        return self.starts + self.stops


class _DistinctDays:
    """Number of distinct covered days inside the window (S6)."""

    linear = True

    def __init__(self, cal: WindowCalendar, spans: list[tuple[int, int]]) -> None:
        self.cal = cal
        merged: list[list[int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]
        self.before: list[int] = []  # covered days in the intervals before index i
        total = 0
        for s, e in merged:
            self.before.append(total)
            total += e - s + 1

    def _covered_upto(self, x: int) -> int:
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        return self.before[i] + min(x, self.ends[i]) - self.starts[i] + 1

    def value(self, d: int) -> int:
        return self._covered_upto(d) - self._covered_upto(self.cal.ws(d) - 1)

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        # Daily change = [d covered] - [ws(d) - 1 covered], except on irregular days.
        reach = self.cal.first_day_ws_reaches
        first, last = self.cal.ws(lo) - 3, self.cal.ws(hi) + 3
        for s, e in zip(self.starts, self.ends, strict=True):
            yield from (s, e + 1)
            yield from (reach(x) for x in (s + 1, e + 2) if first <= x <= last)
        yield from _irregular_days(lo, hi)


def _steps_to(va: float, delta: float, threshold: float, want: bool) -> int | None:
    """Smallest k ≥ 1 with ``(va + delta*k >= threshold) == want``, if any."""
    if want and delta > 0:
        k = max(1, math.ceil((threshold - va) / delta))
    elif not want and delta < 0:
        k = max(1, math.floor((va - threshold) / -delta) + 1)
    else:
        return None

    def ok(n: int) -> bool:
        return (va + delta * n >= threshold) == want

    # Guard against float rounding in the division above.
    while k > 1 and ok(k - 1):
        k -= 1
    while not ok(k):
        k += 1
    return k


def first_day(
    series: Series, threshold: float, lo: int, hi: int, want: bool
) -> int | None:
    """First day in [lo, hi] where ``(value >= threshold) == want``, else None."""
    if lo > hi:
        return None
    points = sorted({lo, *(p for p in series.breakpoints(lo, hi) if lo < p <= hi)})
    for i, a in enumerate(points):
        stop = points[i + 1] if i + 1 < len(points) else hi + 1
        va = series.value(a)
        if (va >= threshold) == want:
            return a
        if series.linear and stop - a >= 2:
            k = _steps_to(va, series.value(a + 1) - va, threshold, want)
            if k is not None and a + k < stop:
                return a + k
    return None


class _CappedEndInWindow(_EndInWindow):
    """Like :class:`_EndInWindow`, with some kinds capped per calendar year (S12).

    Only what lies in the window takes part: the amounts of a capped kind are summed
    per year of their end dates inside the window, then each year is capped.
    """

    def __init__(
        self,
        cal: WindowCalendar,
        items: list[tuple[int, float, str]],
        caps: dict[str, float],
        summed: bool,
    ) -> None:
        items.sort()
        self.cal, self.caps, self.summed = cal, caps, summed
        self.ends = [e for e, _, _ in items]
        self.weights = [w for _, w, _ in items]
        self.keys = [
            (k, date.fromordinal(e).year) if k in caps else None for e, _, k in items
        ]

    def value(self, d: int) -> int | float:
        lo = bisect_left(self.ends, self.cal.ws(d))
        hi = bisect_right(self.ends, d)
        return capped_total(
            self.weights[lo:hi], self.keys[lo:hi], self.caps, summed=self.summed
        )


def capped_total(
    weights: list[float],
    keys: list[tuple[str, int] | None],
    caps: dict[str, float],
    *,
    summed: bool = True,
) -> int | float:
    """Sum of the weights, those under a (kind, year) key capped per key."""
    free: list[float] = []
    per_key: dict[tuple[str, int], list[float]] = {}
    for w, key in zip(weights, keys, strict=True):
        if key is None:
            free.append(w)
        else:
            per_key.setdefault(key, []).append(w)
    capped = [min(caps[k], math.fsum(ws)) for (k, _year), ws in per_key.items()]
    total = math.fsum(free + capped) if free or capped else 0
    return int(total) if not summed else total


class _Constant:
    """The same value on every day (``profile_years``)."""

    linear = False

    def __init__(self, value: float) -> None:
        self.amount = value

    def value(self, d: int) -> int | float:
        return self.amount

    def breakpoints(self, lo: int, hi: int) -> Iterable[int]:
        return ()


def series_for(
    req: Requirement,
    acts: list[ActivityFact],
    cal: WindowCalendar,
    industry_years: float = 0,
) -> Series:
    """The requirement's credited amount as a function of the evaluation day."""
    if req.measure is Measure.PROFILE_YEARS:
        return _Constant(industry_years)
    if req.measure is Measure.DISTINCT_DAYS:
        return _DistinctDays(
            cal, [(a.start.toordinal(), a.last_day.toordinal()) for a in acts]
        )
    if req.measure is Measure.VALID_ON_DATE:
        return _ValidOn(
            [(a.start.toordinal(), a.end.toordinal() if a.end else None) for a in acts]
        )
    summed = req.measure is not Measure.COUNT
    if req.cap_per_year:
        caps = dict(req.cap_per_year)
        items = [(a.last_day.toordinal(), req.amount(a), a.kind) for a in acts]
        return _CappedEndInWindow(cal, [i for i in items if i[1]], caps, summed)
    items2 = [(a.last_day.toordinal(), req.amount(a)) for a in acts]
    return _EndInWindow(cal, [(e, w) for e, w in items2 if w], summed)


def met_spans(
    series: Series, threshold: float, lo: int, hi: int
) -> list[tuple[int, int]]:
    """The maximal day ranges in [lo, hi] (inclusive) where the series is met."""
    spans: list[tuple[int, int]] = []
    if lo > hi:
        return spans
    points = sorted({lo, *(p for p in series.breakpoints(lo, hi) if lo < p <= hi)})
    start: int | None = None
    for i, a in enumerate(points):
        stop = points[i + 1] if i + 1 < len(points) else hi + 1
        va = series.value(a)
        state = va >= threshold
        if state and start is None:
            start = a
        elif not state and start is not None:
            spans.append((start, a - 1))
            start = None
        if series.linear and stop - a >= 2:
            # Linear inside the segment: the state flips at most once.
            k = _steps_to(va, series.value(a + 1) - va, threshold, not state)
            if k is not None and a + k < stop:
                if start is not None:
                    spans.append((start, a + k - 1))
                    start = None
                else:
                    start = a + k
    if start is not None:
        spans.append((start, hi))
    return spans


def first_count_day(
    spans: list[list[tuple[int, int]]], need: int, lo: int, hi: int, want: bool
) -> int | None:
    """First day in [lo, hi] where ``(members met >= need) == want``, else None."""
    days = {lo} | {
        d for member in spans for s, e in member for d in (s, e + 1) if lo < d <= hi
    }
    for d in sorted(days):
        met = sum(any(s <= d <= e for s, e in member) for member in spans)
        if (met >= need) == want:
            return d
    return None


def calendar_for(years: int) -> WindowCalendar:
    """One shared calendar per window length, so its memo serves every teacher."""
    cal = _CALENDARS.get(years)
    if cal is None:
        cal = _CALENDARS[years] = WindowCalendar(years)
    return cal


_CALENDARS: dict[int, WindowCalendar] = {}
