"""The department page's rows in their compact form: what a stored row holds.

A row keeps only what the page, its exports and its ratio comparison read (a
:class:`RowStatus`: level, the next level's missing amounts, each requirement's
credited amount, distance, lapse, forecast date, chart flags), as a short JSON array
of plain values whose names and units come back from the ruleset when read; not the
engine's whole report (8 KB pickled, some 64 objects to unpickle per teacher).
:func:`evaluate_row` makes a row from a teacher's facts through the same
:func:`encode` and :func:`decode`, so a fresh row and a stored one read the same.
:mod:`pdtracker.progress.page_rows` stores and loads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from pdtracker.progress import facts, services
from pdtracker.progress.definitions import Level, LocalizedText, Ruleset
from pdtracker.progress.records import ActiveRuleset
from pdtracker.progress.services import TeacherStatus


class RowResult:
    """A requirement as the page names it: code, unit, name and the amounts shown."""

    __slots__ = ("code", "credited", "lapses_on", "missing", "name", "unit")

    def __init__(
        self,
        code: str,
        unit: str,
        name: LocalizedText,
        *,
        missing: int | float = 0,
        credited: int | float = 0,
        lapses_on: date | None = None,
    ) -> None:
        self.code, self.unit, self.name = code, unit, name
        self.missing, self.credited, self.lapses_on = missing, credited, lapses_on


class RowReport:
    """What the pages read of a :class:`~.engine.ProgressReport`.

    ``levels`` and ``next_level`` are the ruleset's own levels (code, name and
    requirements, one result each in the full report); :meth:`requirement`
    answers for the levels' requirements and groups, not for a group's members.
    """

    __slots__ = ("_missing", "_rules", "assessed", "credited", "level", "next_level")

    def __init__(
        self,
        rules: _Rules,
        assessed: bool,
        level: str | None,
        next_level: Level | None,
        missing: tuple[RowResult, ...],
        credited: Sequence[int | float],
    ) -> None:
        self._rules, self._missing = rules, missing
        # Each level requirement's credited amount, in report order.
        self.credited = credited
        self.assessed, self.level, self.next_level = assessed, level, next_level

    @property
    def levels(self) -> tuple[Level, ...]:
        """The ruleset's levels, lowest first."""
        return self._rules.levels

    @property
    def rank(self) -> int:
        """0 for none, 1 for the first level, …"""
        return 0 if self.level is None else self._rules.rank[self.level]

    def next_level_missing(self) -> tuple[RowResult, ...]:
        """The unmet requirements of the next level, with what each still needs."""
        return self._missing

    def requirement(self, code: str) -> RowResult:
        """A level's requirement or group ``code`` with its credited amount."""
        index = self._rules.index[code]
        code, unit, name = self._rules.requirements[index]
        return RowResult(code, unit, name, credited=self.credited[index])


class RowStatus(services.LevelFacts):
    """What the department page, its exports and its ratio comparison read of a
    :class:`~.services.TeacherStatus` (same names), and nothing else."""

    __slots__ = ("distance", "forecast_on", "lapse", "professional_course", "report",
                 "teacher")  # fmt: skip
    report: RowReport
    lapse: RowResult | None

    def __init__(
        self,
        teacher: Any,
        professional_course: bool,
        report: RowReport,
        distance: float,
        lapse: RowResult | None,
        forecast_on: date | None,
    ) -> None:
        self.teacher, self.professional_course, self.report = (
            teacher, professional_course, report,
        )  # fmt: skip
        self.distance, self.lapse, self.forecast_on = distance, lapse, forecast_on

    @property
    def level_rank(self) -> int:
        """0 for none, 1 for the first level, …"""
        return self.report.rank

    def with_teacher(self, teacher: Any) -> RowStatus:
        """The same row for ``teacher`` (a snapshot or a User)."""
        return RowStatus(
            teacher, self.professional_course, self.report, self.distance,
            self.lapse, self.forecast_on,
        )  # fmt: skip


@dataclass(frozen=True)
class TeacherRow:
    """One teacher's part of the department page: status and chart flags."""

    status: RowStatus  # without its teacher
    flags: services.ChartFlags


# (row, the expiry of its facts) as the caches hold it
Held = tuple[TeacherRow, datetime | None]


def detached(status: TeacherStatus) -> TeacherStatus:
    """The status as kept: no teacher (an ORM object) and no facts.

    The facts are the bulk of a status's memory and no page reads them; the caller
    puts its own teacher back on every use.
    """
    return replace(status, facts=[], done=[], teacher=None)  # type: ignore[arg-type]


def evaluate_row(
    teacher: Any,
    entry: facts.TeacherFacts | None,
    active: ActiveRuleset,
    as_of: date,
    *,
    professional: bool,
    years: float,
) -> Held:
    """One teacher's page row from their already-loaded facts (no queries).

    ``teacher`` (a User, a snapshot or None) is only passed through to the engine's
    adapter; the row keeps none of it. The row is what a stored one reads back as
    (:func:`encode`, then :func:`decode`), so a page shows the same either way.
    """
    status = services.status_for(
        teacher, entry, active.ruleset, as_of, professional=professional, years=years,  # type: ignore[arg-type]
    )  # fmt: skip
    flags = services.chart_flags(status, active.ruleset, as_of)
    row = decode(encode(status, flags), active.ruleset)
    return row, None if entry is None else entry.expires_at


# --- the stored form ----------------------------------------------------------------


@dataclass
class _Rules:
    """What a ruleset lends every row read under it: names, units, level ranks."""

    levels: tuple[Level, ...]
    rank: dict[str, int]
    # (code, unit, name) of each level's requirements and groups, in report order.
    requirements: list[tuple[str, str, LocalizedText]]
    index: dict[str, int]
    # Codes with a unit and a name, members of groups included.
    named: dict[str, tuple[str, LocalizedText]]
    # Rows share their missing amounts and lapses: most repeat.
    shared: dict[tuple, RowResult]


_RULES: dict[int, tuple[Ruleset, _Rules]] = {}
_FLAGS: dict[str, tuple[bool, ...]] = {}


def _rules(ruleset: Ruleset) -> _Rules:
    held = _RULES.get(id(ruleset))
    if held is not None and held[0] is ruleset:
        return held[1]
    if len(_RULES) > 64:
        _RULES.clear()
    tops = [r for lv in ruleset.levels for r in lv.requirements]
    named = {
        r.code: (r.unit, r.name)
        for top in tops
        for r in (top, *getattr(top, "members", ()))
    }
    index: dict[str, int] = {}
    for i, r in enumerate(tops):
        index.setdefault(r.code, i)
    rules = _Rules(
        levels=ruleset.levels,
        rank={lv.code: i + 1 for i, lv in enumerate(ruleset.levels)},
        requirements=[(r.code, r.unit, r.name) for r in tops],
        index=index,
        named=named,
        shared={},
    )
    _RULES[id(ruleset)] = (ruleset, rules)
    return rules


def _shared(rules: _Rules, code: str, field: str, value: Any) -> RowResult:
    """The requirement ``code`` with ``field`` (missing or lapses_on) set to ``value``."""
    key = (code, field, type(value), value)  # 1 and 1.0 are shown differently
    found = rules.shared.get(key)
    if found is None:
        if len(rules.shared) > 100_000:
            rules.shared.clear()
        unit, name = rules.named[code]
        found = rules.shared[key] = RowResult(code, unit, name, **{field: value})
    return found


def _bits(flags: Sequence[bool]) -> str:
    return "".join("1" if f else "0" for f in flags)


def _flags(bits: str) -> tuple[bool, ...]:
    found = _FLAGS.get(bits)
    if found is None:
        found = _FLAGS[bits] = tuple(b == "1" for b in bits)
    return found


def _ordinal(day: date | None) -> int | None:
    return None if day is None else day.toordinal()


def _day(ordinal: int | None) -> date | None:
    return None if ordinal is None else date.fromordinal(ordinal)


def encode(status: TeacherStatus | RowStatus, flags: services.ChartFlags) -> list:
    """The stored form of a row: a list of plain values (JSON), no names.

    [assessed, level, next level's position, [[code, missing], ...] of the next
    level's unmet requirements, each level requirement's credited amount in
    report order, distance, [lapse code, lapses on] or None, forecast date,
    professional course, past flags, future flags]; dates as ordinals.
    """
    report = status.report
    nxt = report.next_level
    codes = [lv.code for lv in report.levels]
    lapse = status.lapse
    if isinstance(report, RowReport):
        credited: Sequence[int | float] = report.credited
    else:
        credited = [r.credited for lv in report.levels for r in lv.requirements]
    return [
        report.assessed,
        report.level,
        None if nxt is None else codes.index(nxt.code),
        [[r.code, r.missing] for r in report.next_level_missing()],
        list(credited),
        status.distance,
        None if lapse is None else [lapse.code, _ordinal(lapse.lapses_on)],
        _ordinal(status.forecast_on),
        status.professional_course,
        _bits(flags[0]),
        _bits(flags[1]),
    ]


def decode(data: Sequence[Any], ruleset: Ruleset) -> TeacherRow:
    """The row :func:`encode` stored, named again from ``ruleset`` (no teacher)."""
    (assessed, level, nxt, missing, credited, distance, lapse, forecast, professional,
     past, future) = data  # fmt: skip
    rules = _rules(ruleset)
    report = RowReport(
        rules,
        assessed,
        level,
        None if nxt is None else rules.levels[nxt],
        tuple(_shared(rules, code, "missing", amount) for code, amount in missing),
        credited,
    )
    status = RowStatus(
        None,
        professional,
        report,
        distance,
        None
        if lapse is None
        else _shared(rules, lapse[0], "lapses_on", _day(lapse[1])),
        _day(forecast),
    )
    return TeacherRow(status, (_flags(past), _flags(future)))
