"""Rulesets layer per college: a teacher is evaluated under their college's layer.

docs/status-rules.md S19 (layers) and S22 (one active layer per scope; a college's
teachers are evaluated under their college's, else the regional one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

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


# --- publishing per scope ------------------------------------------------------------


@pytest.fixture
def cast(app, colleges, make_user):
    """Admins of both colleges, association staff and the deployment admin."""
    a, b = colleges["a"], colleges["b"]
    return {
        **colleges,
        "cadmin_a": make_user(
            "cadmin_a", Role.COLLEGE_ADMIN, institution_id=a.institution_id
        ),
        "cadmin_b": make_user(
            "cadmin_b", Role.COLLEGE_ADMIN, institution_id=b.institution_id
        ),
        "staff": make_user("staff1", Role.STAFF),
        "admin": make_user("admin", Role.ADMIN),
    }


def _user(cast, key: str) -> User:
    found = db.session.get(User, cast[key].id)
    assert found is not None
    return found


def _levels(department_id: int) -> dict[int, tuple[str, str | None]]:
    summary = services.evaluate_department(department_id, now=NOW)
    return {
        s.teacher.id: (s.report.ruleset_name, s.report.level) for s in summary.teachers
    }


def test_publishing_in_one_college_never_changes_another(app, cast):
    a, b = cast["a"], cast["b"]
    with app.app_context():
        before_b = _levels(b.id)
        rec = records.create_draft(
            COLLEGE_A, "toml", actor=_user(cast, "cadmin_a"), now=NOW,
            institution_id=a.institution_id,
        )  # fmt: skip
        records.publish(rec, actor=_user(cast, "cadmin_a"), now=NOW)
        db.session.commit()
        assert _levels(b.id) == before_b
        assert {name for name, _level in _levels(a.id).values()} == {"college-a-rules"}
        # The regional scope still has its own active version (the default).
        regional = db.session.scalars(
            select(StoredRuleset).where(
                StoredRuleset.is_active, StoredRuleset.institution_id.is_(None)
            )
        ).all()
        assert [r.name for r in regional] == ["cn-vocational-default"]
        # A second version in A replaces A's active one only.
        again = records.republish(rec, actor=_user(cast, "cadmin_a"), now=NOW)
        db.session.commit()
        actives = {
            (r.institution_id, r.name, r.version)
            for r in db.session.scalars(
                select(StoredRuleset).where(StoredRuleset.is_active)
            )
        }
        assert actives == {
            (None, "cn-vocational-default", 1),
            (a.institution_id, "college-a-rules", again.version),
        }
        assert again.institution_id == a.institution_id
        assert _levels(b.id) == before_b


def test_regional_publishing_reaches_colleges_without_a_layer_only(app, cast):
    a, b = cast["a"], cast["b"]
    with app.app_context():
        mine = records.create_draft(
            COLLEGE_A, "toml", actor=_user(cast, "cadmin_a"), now=NOW,
            institution_id=a.institution_id,
        )  # fmt: skip
        records.publish(mine, actor=_user(cast, "cadmin_a"), now=NOW)
        rec = records.create_draft(
            builtin_text("cn-province-example"), "toml",
            actor=_user(cast, "staff"), now=NOW,
        )  # fmt: skip
        records.publish(rec, actor=_user(cast, "staff"), now=NOW)
        db.session.commit()
        assert records.active_ruleset_for(b.institution_id).name == (
            "cn-province-example"
        )
        assert records.active_ruleset_for(a.institution_id).name == "college-a-rules"


def test_a_college_layer_must_extend_the_regional_chain(app, cast):
    a, b = cast["a"], cast["b"]
    with app.app_context():
        admin_a = _user(cast, "cadmin_a")
        scope_a = a.institution_id
        standalone = builtin_text("cn-vocational-default").replace(
            'name = "cn-vocational-default"', 'name = "college-a-standalone"'
        )
        with pytest.raises(records.ScopeError) as error:
            records.create_draft(
                standalone, "toml", actor=admin_a, now=NOW, institution_id=scope_a
            )
        assert error.value.code == "must_extend"
        # The province example is not the regional layer (nothing is published).
        with pytest.raises(records.ScopeError) as error:
            records.create_draft(
                COLLEGE_A.replace("cn-vocational-default", "cn-province-example"),
                "toml", actor=admin_a, now=NOW, institution_id=scope_a,
            )  # fmt: skip
        assert (error.value.code, error.value.allowed) == (
            "not_regional",
            ("cn-vocational-default",),
        )
        # A name stays in its scope: B may not take A's, nor A the regional one's.
        records.create_draft(
            COLLEGE_A, "toml", actor=admin_a, now=NOW, institution_id=scope_a
        )
        with pytest.raises(records.ScopeError) as error:
            records.create_draft(
                COLLEGE_A, "toml", actor=_user(cast, "cadmin_b"), now=NOW,
                institution_id=b.institution_id,
            )  # fmt: skip
        assert error.value.code == "name_taken"
        with pytest.raises(records.ScopeError):
            records.create_draft(
                builtin_text("cn-vocational-default"), "toml", actor=admin_a,
                now=NOW, institution_id=scope_a,
            )  # fmt: skip


def test_audit_entries_name_the_college(app, cast):
    from pdtracker.audit import AuditEntry

    a = cast["a"]
    with app.app_context():
        rec = records.create_draft(
            COLLEGE_A, "toml", actor=_user(cast, "cadmin_a"), now=NOW,
            institution_id=a.institution_id,
        )  # fmt: skip
        records.publish(rec, actor=_user(cast, "cadmin_a"), now=NOW)
        db.session.commit()
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action.in_(["ruleset.create", "ruleset.publish"])
            )
        ).all()
        assert len(entries) == 2
        assert {e.details["institution_id"] for e in entries} == {a.institution_id}


def test_seeded_demo_layers(app, cast):
    from pdtracker.org.models import Institution
    from pdtracker.progress.demo_rules import seed_rule_layers

    a, b = cast["a"], cast["b"]
    with app.app_context():
        inst_a = db.session.get(Institution, a.institution_id)
        seed_rule_layers(_user(cast, "staff"), {inst_a: _user(cast, "cadmin_a")}, NOW)
        db.session.commit()
        seed_rule_layers(_user(cast, "staff"), {inst_a: _user(cast, "cadmin_a")}, NOW)
        db.session.commit()
        layer_a = records.active_ruleset_for(a.institution_id)
        assert (layer_a.name, layer_a.layer) == ("cn-college-example", "college")
        layer_b = records.active_ruleset_for(b.institution_id)
        assert (layer_b.name, layer_b.layer) == ("cn-province-example", "regional")
        assert (
            db.session.scalar(select(func.count()).select_from(StoredRuleset)) == 4
        )  # default v1, province v1 + v2 (published), college v1


def test_path_to_the_next_level_under_a_college_layer(app, cast, make_activity):
    from pdtracker.org.models import Institution
    from pdtracker.progress.demo_rules import seed_rule_layers

    a = cast["a"]
    with app.app_context():
        inst_a = db.session.get(Institution, a.institution_id)
        seed_rule_layers(_user(cast, "staff"), {inst_a: _user(cast, "cadmin_a")}, NOW)
        db.session.commit()
        status = cache.teacher_status(_user(cast, "teacher_a"), now=NOW)
        assert status.report.ruleset_name == "cn-college-example"
        assert status.path is not None
        assert status.path.level == "primary"
        # The college layer's alternatives: practice days or industry work.
        groups = {s.group.code for s in status.path.steps if s.group is not None}
        assert groups == {"enterprise_practice"}
        # B's teacher, under the regional (default) rules, has no such group.
        other = cache.teacher_status(_user(cast, "teacher_b"), now=NOW)
        assert other.path is not None
        assert all(s.group is None for s in other.path.steps)


def test_what_if_accepts_a_college_layer(runner, tmp_path):
    from pathlib import Path

    import pdtracker.progress

    facts = tmp_path / "facts.json"
    facts.write_text('{"activities": []}', encoding="utf-8")
    layer = (
        Path(pdtracker.progress.__file__).parent / "standards/cn-college-example.toml"
    )
    result = runner.invoke(
        args=["progress", "evaluate", str(facts), "--as-of", "2026-12-07",
              "--ruleset", str(layer)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"ruleset": "cn-college-example"' in result.output
