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


UNITS: dict[Measure, str] = {
    Measure.DISTINCT_DAYS: "days",
    Measure.SUM_HOURS: "hours",
    Measure.SUM_DAYS: "days",
    Measure.COUNT: "count",
    Measure.VALID_ON_DATE: "count",
}


class AppliesTo(StrEnum):
    """Which teachers a ruleset assesses."""

    PROFESSIONAL_COURSE = "professional_course"
    ALL = "all"


ROLES = frozenset({"attendee", "speaker", "organizer"})
STATUSES = frozenset({"planned", "completed", "verified", "rejected"})
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
class Requirement:
    """One requirement of a level, built from a measure and filters."""

    code: str
    measure: Measure
    threshold: int | float
    kinds: frozenset[str]
    roles: frozenset[str] | None = None
    grades: frozenset[str] | None = None
    source: LocalizedText = field(default_factory=LocalizedText)
    is_public_standard: bool = False
    name: LocalizedText = field(default_factory=LocalizedText)

    @property
    def unit(self) -> str:
        """Unit of the credited and required amounts."""
        return UNITS[self.measure]

    def matches(self, activity: ActivityFact) -> bool:
        """Whether the activity passes this requirement's filters (status aside)."""
        return (
            activity.kind in self.kinds
            and (self.roles is None or activity.role in self.roles)
            and (self.grades is None or activity.grade in self.grades)
        )


@dataclass(frozen=True)
class Level:
    """A level (primary, intermediate, senior…); levels are ordered low to high."""

    code: str
    requirements: tuple[Requirement, ...]
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

    def requirement(self, code: str) -> Requirement:
        """Return the requirement with ``code`` (KeyError if absent)."""
        for level in self.levels:
            for req in level.requirements:
                if req.code == code:
                    return req
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
