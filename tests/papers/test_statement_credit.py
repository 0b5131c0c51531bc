"""Statement lines credit hours as the ruleset's credit table converts them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from pdtracker.papers.statements import build_lines, credit_rules
from pdtracker.progress.definitions import (
    CreditRule,
    Level,
    Measure,
    Requirement,
    Ruleset,
)


def _activity(id_, kind, unit, *, hours=None, days=None, role="attendee",
              start=date(2026, 3, 10), end=None):  # fmt: skip
    return SimpleNamespace(
        id=id_, kind_code=kind, kind=SimpleNamespace(unit=unit, label_zh=kind),
        title=f"t{id_}", organizer="主办", enterprise=None, organizer_level=None,
        starts_on=start, ends_on=end, hours=hours, days=days, role=role, grade=None,
        status="verified", verified_by=SimpleNamespace(display_name="审核人"),
        span_days=((end or start) - start).days + 1,
    )  # fmt: skip


RULESET = Ruleset(
    name="t",
    levels=(
        Level("primary", (
            Requirement(
                "training", Measure.SUM_HOURS, 360, frozenset({"expert_lecture"}),
                credit=(("expert_lecture", CreditRule(
                    hours_each=2, role_factor=(("organizer", 2),), max_each=3,
                )),),
            ),
        )),
    ),
)  # fmt: skip


def test_credit_table_applies_per_activity():
    rules = credit_rules(RULESET)
    lines, totals, hours, days = build_lines(
        [
            _activity(1, "expert_lecture", "hours", hours=Decimal("8")),
            _activity(2, "expert_lecture", "hours", hours=Decimal("8"), role="organizer"),
            _activity(3, "training", "hours", hours=Decimal("6.5")),
            _activity(4, "enterprise_placement", "days", days=None,
                      start=date(2026, 5, 1), end=date(2026, 5, 3)),
        ],
        rules,
    )  # fmt: skip
    # 2 each; ×2 for the organiser but at most 3; training's logged hours; 3 days.
    assert [line.credited for line in lines] == ["2", "3", "6.5", "3"]
    assert [line.logged for line in lines] == ["8", "8", "6.5", ""]
    assert (hours, days) == (Decimal("11.5"), Decimal("3"))
    assert {t.kind: t.credited for t in totals} == {
        "expert_lecture": "5", "training": "6.5", "enterprise_placement": "3",
    }  # fmt: skip
    assert lines[0].verifier == "审核人"
