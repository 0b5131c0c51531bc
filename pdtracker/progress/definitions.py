"""What a ruleset says and what a teacher did: the engine's input values.

Pure: frozen dataclasses and enums, standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Measure(StrEnum):
    """How a requirement turns activities into a credited amount."""

    DISTINCT_DAYS = "distinct_days"
    SUM_HOURS = "sum_hours"
    SUM_DAYS = "sum_days"
    COUNT = "count"
    VALID_ON_DATE = "valid_on_date"
    PROFILE_YEARS = "profile_years"


UNITS: dict[Measure, str] = {
    Measure.DISTINCT_DAYS: "days",
    Measure.SUM_HOURS: "hours",
    Measure.SUM_DAYS: "days",
    Measure.COUNT: "count",
    Measure.VALID_ON_DATE: "count",
    Measure.PROFILE_YEARS: "years",
}
# Measures that credit activities ending in a window (count or sum their amounts).
END_IN_WINDOW = frozenset({Measure.SUM_HOURS, Measure.SUM_DAYS, Measure.COUNT})


class AppliesTo(StrEnum):
    """Which teachers a ruleset assesses."""

    PROFESSIONAL_COURSE = "professional_course"
    ALL = "all"


ROLES = frozenset({"attendee", "speaker", "organizer"})
STATUSES = frozenset({"planned", "completed", "verified", "rejected"})
# Verified activities are credited; planned and completed ones only in forecasts
# (docs/status-rules.md S4).
STATUS_COUNTED = frozenset({"verified"})
STATUS_FORECAST = frozenset({"planned", "completed", "verified"})


@dataclass(frozen=True)
class LocalizedText:
    """A text in Chinese and English; either may be empty."""

    zh: str = ""
    en: str = ""

    def get(self, locale: str | None = None) -> str:
        """Text for ``locale`` ("zh…" or "en…"), falling back to the other."""
        first, second = (
            (self.en, self.zh)
            if (locale or "").startswith("en")
            else (self.zh, self.en)
        )
        return first or second


@dataclass(frozen=True)
class CreditRule:
    """How many hours one activity of a kind counts, whatever it logged.

    ``hours_each`` per activity; otherwise ``hours_per_day`` per day of its span;
    otherwise its logged hours. Then times its role's factor (absent roles: 1), and
    at most ``max_each`` (docs/status-rules.md S11).
    """

    hours_each: float | None = None
    hours_per_day: float | None = None
    role_factor: tuple[tuple[str, float], ...] = ()
    max_each: float | None = None

    def hours(self, activity: ActivityFact) -> float:
        """The hours this rule credits for one activity."""
        if self.hours_each is not None:
            base = self.hours_each
        elif self.hours_per_day is not None:
            base = self.hours_per_day * ((activity.last_day - activity.start).days + 1)
        else:
            base = activity.hours or 0
        factor = dict(self.role_factor).get(activity.role or "", 1)
        amount = base * factor
        return amount if self.max_each is None else min(amount, self.max_each)


@dataclass(frozen=True)
class Requirement:
    """One requirement of a level, built from a measure and filters.

    ``credit`` and ``cap_per_year`` are (kind, rule) pairs; ``window_years``, when
    set, replaces the ruleset's window for this requirement.
    """

    code: str
    measure: Measure
    threshold: int | float
    kinds: frozenset[str]
    roles: frozenset[str] | None = None
    grades: frozenset[str] | None = None
    source: LocalizedText = field(default_factory=LocalizedText)
    is_public_standard: bool = False
    name: LocalizedText = field(default_factory=LocalizedText)
    credit: tuple[tuple[str, CreditRule], ...] = ()
    cap_per_year: tuple[tuple[str, int | float], ...] = ()
    window_years: int | None = None

    @property
    def unit(self) -> str:
        """Unit of the credited and required amounts."""
        return UNITS[self.measure]

    @property
    def is_converted(self) -> bool:
        """Whether a credit table or a yearly cap changes what activities count."""
        return bool(self.credit or self.cap_per_year)

    def matches(self, activity: ActivityFact) -> bool:
        """Whether the activity passes this requirement's filters (status aside)."""
        return (
            activity.kind in self.kinds
            and (self.roles is None or activity.role in self.roles)
            and (self.grades is None or activity.grade in self.grades)
        )

    def amount(self, activity: ActivityFact) -> float:
        """What one activity adds before yearly caps (end-in-window measures)."""
        if self.measure is Measure.COUNT:
            return 1
        if self.measure is Measure.SUM_DAYS:
            return activity.days or 0
        rule = dict(self.credit).get(activity.kind)
        return (activity.hours or 0) if rule is None else rule.hours(activity)


@dataclass(frozen=True)
class Group:
    """Alternatives ("具备下列条件之一"): met when ``min_met`` members are met (S13)."""

    code: str
    members: tuple[Requirement, ...]
    min_met: int = 1
    source: LocalizedText = field(default_factory=LocalizedText)
    is_public_standard: bool = False
    name: LocalizedText = field(default_factory=LocalizedText)

    unit = "alternatives"

    @property
    def threshold(self) -> int:
        """How many members must be met."""
        return self.min_met

    @property
    def kinds(self) -> frozenset[str]:
        """Every kind a member counts."""
        return frozenset().union(*(m.kinds for m in self.members))

    def matches(self, activity: ActivityFact) -> bool:
        """Whether the activity counts for any member."""
        return any(m.matches(activity) for m in self.members)


@dataclass(frozen=True)
class Level:
    """A level (primary, intermediate, senior…); levels are ordered low to high."""

    code: str
    requirements: tuple[Requirement | Group, ...]
    name: LocalizedText = field(default_factory=LocalizedText)


@dataclass(frozen=True)
class Ruleset:
    """A validated ruleset, ready for :func:`evaluate`."""

    name: str
    levels: tuple[Level, ...]
    version: str | None = None
    window_years: int = 5
    horizon_years: int = 5
    applies_to: AppliesTo = AppliesTo.PROFESSIONAL_COURSE
    title: LocalizedText = field(default_factory=LocalizedText)
    extends: str | None = None

    def requirement(self, code: str) -> Requirement | Group:
        """Return the requirement, group or member with ``code`` (KeyError if absent)."""
        for level in self.levels:
            for req in level.requirements:
                if req.code == code:
                    return req
                members = req.members if isinstance(req, Group) else ()
                for member in members:
                    if member.code == code:
                        return member
        raise KeyError(code)


@dataclass(frozen=True)
class ActivityFact:
    """What the engine needs to know about one logged activity."""

    id: int | str | None
    kind: str
    start: date
    end: date | None = None
    hours: float | None = None
    days: float | None = None
    role: str | None = None
    grade: str | None = None
    status: str = "verified"

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"activity {self.id!r}: end {self.end} before start")
        if (self.hours or 0) < 0 or (self.days or 0) < 0:
            raise ValueError(f"activity {self.id!r}: negative hours or days")

    @property
    def last_day(self) -> date:
        """End date, or the start date when the activity has no end."""
        return self.start if self.end is None else self.end


@dataclass(frozen=True)
class Window:
    """Inclusive date range over which activities are credited."""

    start: date
    end: date
