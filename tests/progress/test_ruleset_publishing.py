"""Publishing rulesets (issue 12): the diff against the active version, a reason for
lowering a public standard, and publishing an earlier version again.

Public standards and layers: docs/status-rules.md S19–S21.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.progress import records
from pdtracker.progress.diff import diff_rulesets
from pdtracker.progress.models import StoredRuleset
from pdtracker.progress.rulebook import builtin_text, load_builtin, parse_ruleset

LOWERING = """\
name = "demo-college"
extends = "cn-vocational-default"

[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 300
cap_per_year = { seminar = 16 }

[[levels.requirements]]
code = "teaching_research"
measure = "count"
kinds = ["seminar"]
threshold = 1
source = "学院自定"
"""
CLAIMS_PUBLIC = LOWERING.replace(
    "threshold = 300", "threshold = 300\npublic_standard = true"
)
RAISING = LOWERING.replace("threshold = 300", "threshold = 400")


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin")
    client.post("/language", data={"locale": "en"})
    return world


def _draft(app, client, text: str) -> int:
    assert (
        client.post("/admin/rulesets/new", data={"document": text}).status_code == 302
    )
    with app.app_context():
        return db.session.scalar(
            select(StoredRuleset.id).where(StoredRuleset.status == "draft")
            .order_by(StoredRuleset.id.desc())
        )  # fmt: skip


def _active(app) -> tuple[str, int]:
    with app.app_context():
        active = records.active_ruleset()
        return active.name, active.version


def test_diff_names_thresholds_additions_and_credit_rules():
    before = load_builtin()
    after = parse_ruleset(LOWERING, "toml", resolve=builtin_text)
    changes = diff_rulesets(before, after)
    (change,) = changes.thresholds
    assert (change.code, change.before, change.after) == ("training_hours", 360, 300)
    assert change.lowers_public_standard
    assert changes.added == ("teaching_research",)
    assert changes.removed == ()
    assert changes.credit_rules == ("training_hours",)
    assert diff_rulesets(after, before).removed == ("teaching_research",)
    assert not diff_rulesets(after, before).lowered_public  # raising is fine


def test_preview_shows_the_diff_and_asks_for_a_reason(app, client, admin) -> None:
    draft = _draft(app, client, LOWERING)
    html = client.get(f"/admin/rulesets/{draft}").get_data(as_text=True)
    assert 'data-code="training_hours"' in html
    assert "Lowers a public standard" in html
    assert "Added: teaching_research" in html
    assert "Credit rules changed: training_hours" in html
    assert 'id="publish-with-reason"' in html


def test_lowering_without_a_reason_is_refused(app, client, admin) -> None:
    draft = _draft(app, client, LOWERING)
    response = client.post(f"/admin/rulesets/{draft}/publish", follow_redirects=True)
    assert "give a reason" in response.get_data(as_text=True)
    assert _active(app) == ("cn-vocational-default", 1)
    with app.app_context():
        assert db.session.get(StoredRuleset, draft).status == "draft"


def test_lowering_with_a_reason_publishes_as_the_colleges_own_number(
    app, client, admin, world
) -> None:
    draft = _draft(app, client, LOWERING)
    response = client.post(
        f"/admin/rulesets/{draft}/publish", data={"reason": "省厅过渡期安排"}
    )
    assert response.status_code == 302
    assert _active(app) == ("demo-college", 1)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "ruleset.publish")
        )
        assert entry.details["reason"] == "省厅过渡期安排"
        assert entry.details["lowered"] == ["training_hours"]
        hours = records.active_ruleset().ruleset.requirement("training_hours")
        assert hours.is_public_standard is False


def test_a_lowered_number_cannot_still_claim_to_be_public(app, client, admin) -> None:
    draft = _draft(app, client, CLAIMS_PUBLIC)
    response = client.post(
        f"/admin/rulesets/{draft}/publish", data={"reason": "x"}, follow_redirects=True
    )
    assert "public_standard = false" in response.get_data(as_text=True)
    assert _active(app) == ("cn-vocational-default", 1)


def test_an_earlier_version_is_published_again_in_one_step(app, client, admin) -> None:
    first = _draft(app, client, RAISING)
    assert client.post(f"/admin/rulesets/{first}/publish").status_code == 302
    stricter = _draft(
        app, client, RAISING.replace("threshold = 400", "threshold = 420")
    )
    assert client.post(f"/admin/rulesets/{stricter}/publish").status_code == 302
    assert _active(app) == ("demo-college", 2)
    # Going back lowers 420 to 400, but that number was never a public standard.
    page = client.get(f"/admin/rulesets/{first}").get_data(as_text=True)
    assert "Publish again" in page
    response = client.post(f"/admin/rulesets/{first}/republish")
    assert response.status_code == 302
    assert _active(app) == ("demo-college", 3)
    with app.app_context():
        again = db.session.scalar(
            select(StoredRuleset).where(StoredRuleset.version == 3)
        )
        assert again.document == RAISING
        assert (
            records.active_ruleset().ruleset.requirement("training_hours").threshold
            == 400
        )


def test_a_requirement_replaced_by_alternatives_is_a_change_not_a_lowering():
    before = load_builtin()
    after = load_builtin("cn-college-example")
    changes = diff_rulesets(before, after)
    practice = next(t for t in changes.thresholds if t.code == "enterprise_practice")
    assert (practice.before, practice.after, practice.unit) == (180, 1, "alternatives")
    assert not practice.lowers_public_standard
    assert {"practice_days", "industry_work", "yearly_practice"} <= set(changes.added)
