"""Rulesets layer per college: a teacher is evaluated under their college's layer.

docs/status-rules.md S19 (layers) and S22 (one active layer per scope; a college's
teachers are evaluated under their college's, else the regional one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.progress import cache, records, services
from pdtracker.progress.models import Evaluation, StoredRuleset
from pdtracker.progress.rulebook import builtin_text

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

# A college layer that is easy to tell apart: 400 training hours.
COLLEGE_A = """\
name = "college-a-rules"
extends = "cn-vocational-default"

[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 400
"""


def _publish_row(name: str, document: str, institution_id: int | None, **extra):
    """A published, active row in a scope, written directly (no services)."""
    rec = StoredRuleset(
        name=name, version=1, document=document, format="toml",
        institution_id=institution_id, status="published", is_active=True,
        published_at=NOW, **extra,
    )  # fmt: skip
    db.session.add(rec)
    db.session.flush()
    return rec


@pytest.fixture
def colleges(make_department, make_user):
    a = make_department("AI", "人工智能技术应用系", institution="DEMO")
    b = make_department("NE", "北城机电系", institution="NORTH")
    return {
        "a": a,
        "b": b,
        "teacher_a": make_user("ta", Role.TEACHER, department=a),
        "teacher_b": make_user("tb", Role.TEACHER, department=b),
    }


def test_active_ruleset_for_falls_back_from_college_to_regional_to_default(
    app, colleges
):
    a, b = colleges["a"], colleges["b"]
    with app.app_context():
        assert records.active_ruleset_for(a.institution_id).name == (
            "cn-vocational-default"
        )
        assert records.active_ruleset_for(a.institution_id).layer == "default"
        _publish_row("cn-province-example", builtin_text("cn-province-example"), None)
        regional = records.active_ruleset_for(b.institution_id)
        assert (regional.name, regional.layer) == ("cn-province-example", "regional")
        _publish_row("college-a-rules", COLLEGE_A, a.institution_id)
        mine = records.active_ruleset_for(a.institution_id)
        assert (mine.name, mine.layer, mine.institution_id) == (
            "college-a-rules", "college", a.institution_id,
        )  # fmt: skip
        assert mine.ruleset.requirement("training_hours").threshold == 400
        # B has no layer: the regional one; None asks for the regional one too.
        assert records.active_ruleset_for(b.institution_id).name == (
            "cn-province-example"
        )
        assert records.active_ruleset().name == "cn-province-example"
        both = records.active_rulesets_for([a.institution_id, b.institution_id])
        assert both[a.institution_id].name == "college-a-rules"
        assert both[b.institution_id].name == "cn-province-example"


def test_each_teacher_is_evaluated_under_their_colleges_layer(app, colleges):
    a = colleges["a"]
    with app.app_context():
        _publish_row("college-a-rules", COLLEGE_A, a.institution_id)
        ta = db.session.get(User, colleges["teacher_a"].id)
        tb = db.session.get(User, colleges["teacher_b"].id)
        assert services.evaluate_teacher(ta, now=NOW).report.ruleset_name == (
            "college-a-rules"
        )
        assert services.evaluate_teacher(tb, now=NOW).report.ruleset_name == (
            "cn-vocational-default"
        )
        assert cache.teacher_status(ta, now=NOW).report.ruleset_name == (
            "college-a-rules"
        )
        assert cache.teacher_status(tb, now=NOW).report.ruleset_name == (
            "cn-vocational-default"
        )
        dept_a = services.evaluate_department(a.id, now=NOW)
        assert dept_a.ruleset.name == "college-a-rules"
        assert {s.report.ruleset_name for s in dept_a.teachers} == {"college-a-rules"}
        summary_b = cache.department_summary(
            db.session.get(type(colleges["b"]), colleges["b"].id), now=NOW
        )
        assert summary_b.ruleset.layer == "default"


def test_stored_evaluations_name_each_colleges_ruleset(app, colleges):
    a = colleges["a"]
    with app.app_context():
        _publish_row("college-a-rules", COLLEGE_A, a.institution_id)
        assert services.store_evaluations(None, date(2026, 12, 7), NOW) == 2
        stored = dict(
            db.session.execute(
                select(Evaluation.teacher_id, Evaluation.ruleset_name)
            ).all()
        )
        assert stored == {
            colleges["teacher_a"].id: "college-a-rules",
            colleges["teacher_b"].id: "cn-vocational-default",
        }
