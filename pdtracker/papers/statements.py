"""学时证明: the training a teacher did in a period, credited as the ruleset converts it.

A statement lists every verified activity of an hours or days kind that ended in
the period: its dates, title, organiser, the amount credited after the
ruleset's credit table (hours each, hours a day, role factors, a cap per
activity) and who verified it, then totals by kind. Yearly caps are not applied:
they limit what one requirement counts, not the training that took place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pdtracker.activities.models import Activity, CreditUnit
from pdtracker.progress.definitions import ActivityFact, CreditRule, Group, Ruleset

TRAINING_UNITS = (CreditUnit.HOURS.value, CreditUnit.DAYS.value)


@dataclass(frozen=True)
class StatementLine:
    """One activity as the statement shows it."""

    starts_on: str
    ends_on: str
    kind: str
    kind_label: str
    title: str
    organizer: str
    organizer_level: str | None
    unit: str  # hours | days
    logged: str
    credited: str
    verifier: str


@dataclass(frozen=True)
class KindTotal:
    """The credited total of one kind."""

    kind: str
    kind_label: str
    unit: str
    credited: str
    count: int


def credit_rules(ruleset: Ruleset) -> dict[str, CreditRule]:
    """The credit table of each kind, the first one the ruleset names (lowest level)."""
    rules: dict[str, CreditRule] = {}
    for level in ruleset.levels:
        for req in level.requirements:
            for member in req.members if isinstance(req, Group) else (req,):
                for kind, rule in member.credit:
                    rules.setdefault(kind, rule)
    return rules


def tenth(value: float | Decimal) -> Decimal:
    """A credited amount to one decimal place, rounded half up."""
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _fact(activity: Activity) -> ActivityFact:
    return ActivityFact(
        id=activity.id, kind=activity.kind_code, start=activity.starts_on,
        end=activity.ends_on,
        hours=None if activity.hours is None else float(activity.hours),
        days=None if activity.days is None else float(activity.days),
        role=activity.role, grade=activity.grade, status=activity.status,
    )  # fmt: skip


def credited(activity: Activity, rules: Mapping[str, CreditRule]) -> Decimal:
    """Hours (or days) the activity credits after the kind's credit table."""
    if activity.kind.unit == CreditUnit.DAYS:
        return tenth(activity.days or activity.span_days)
    rule = rules.get(activity.kind_code)
    if rule is None:
        return tenth(activity.hours or 0)
    return tenth(rule.hours(_fact(activity)))


def _show(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral() else str(value)


def build_lines(
    activities: Iterable[Activity], rules: Mapping[str, CreditRule]
) -> tuple[list[StatementLine], list[KindTotal], Decimal, Decimal]:
    """The statement's lines (by date), totals per kind, total hours and total days."""
    lines: list[StatementLine] = []
    sums: dict[str, tuple[str, str, Decimal, int]] = {}
    hours, days = Decimal(0), Decimal(0)
    for a in sorted(
        activities, key=lambda a: (a.starts_on, a.ends_on or a.starts_on, a.id)
    ):
        unit = a.kind.unit
        amount = credited(a, rules)
        logged = a.days if unit == CreditUnit.DAYS else a.hours
        organizer = a.organizer or (a.enterprise.name if a.enterprise else "")
        lines.append(
            StatementLine(
                starts_on=a.starts_on.isoformat(),
                ends_on=(a.ends_on or a.starts_on).isoformat(),
                kind=a.kind_code, kind_label=a.kind.label_zh, title=a.title,
                organizer=organizer,
                organizer_level=getattr(a, "organizer_level", None),
                unit=unit,
                logged="" if logged is None else _show(tenth(logged)),
                credited=_show(amount),
                verifier=a.verified_by.display_name if a.verified_by else "",
            )
        )  # fmt: skip
        label, _, total, count = sums.get(
            a.kind_code, (a.kind.label_zh, unit, Decimal(0), 0)
        )
        sums[a.kind_code] = (label, unit, total + amount, count + 1)
        if unit == CreditUnit.DAYS:
            days += amount
        else:
            hours += amount
    totals = [
        KindTotal(kind, label, unit, _show(total), count)
        for kind, (label, unit, total, count) in sums.items()
    ]
    return lines, totals, hours, days


def statement_claims(
    *,
    name: str,
    college: str,
    department: str,
    staff_number: str,
    period: tuple[date, date],
    lines: list[StatementLine],
    totals: list[KindTotal],
    hours: Decimal,
    days: Decimal,
    ruleset: str,
) -> dict[str, Any]:
    """What the statement claims, JSON-ready (stored with the paper)."""
    return {
        "name": name,
        "college": college,
        "department": department,
        "staff_number": staff_number,
        "period_start": period[0].isoformat(),
        "period_end": period[1].isoformat(),
        "lines": [asdict(line) for line in lines],
        "totals": [asdict(total) for total in totals],
        "total_hours": _show(hours),
        "total_days": _show(days),
        "ruleset": ruleset,
    }
