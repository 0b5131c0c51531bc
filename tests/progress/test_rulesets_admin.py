"""Admin ruleset pages: upload with clear errors, preview, publish, immutability."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.progress import records, services
from pdtracker.progress.facts import local_today
from pdtracker.progress.models import (
    Evaluation,
    PublishedRulesetChanged,
    StoredRuleset,
)

# A college ruleset: the national default with 120 days of practice instead of 180.
COLLEGE = """\
name = "demo-college"
extends = "cn-vocational-default"
title = { zh = "示范学院规则", en = "Demo college rules" }

[[levels]]
code = "primary"

[[levels.requirements]]
code = "enterprise_practice"
threshold = 120
"""

REASON = {"reason": "省厅批准的过渡期安排"}

BAD_FIELD = """\
name = "demo-college"
extends = "cn-vocational-default"

[[levels]]
code = "primary"

[[levels.requirements]]
code = "enterprise_practice"
threshold = -5
"""

BAD_SYNTAX = 'name = "demo-college"\nlevels = [\n  { code = "primary" \n'


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin")
    client.post("/language", data={"locale": "en"})  # the assertions read English
    return world


def _upload(client, text: str, **extra):
    return client.post("/admin/rulesets/new", data={"document": text, **extra})


def _record(app, **filters) -> StoredRuleset:
    with app.app_context():
        rec = db.session.scalar(select(StoredRuleset).filter_by(**filters))
        db.session.expunge(rec)
        return rec


def test_only_admins(client, auth, world) -> None:
    auth.login("head1")
    assert client.get("/admin/rulesets").status_code == 403
    assert _upload(client, COLLEGE).status_code == 403


def test_list_says_the_builtin_is_used(app, client, admin) -> None:
    html = client.get("/admin/rulesets").get_data(as_text=True)
    assert "cn-vocational-default" in html
    assert "No ruleset uploaded yet." in html


def test_invalid_value_shows_line_and_field(app, client, admin, table_counts) -> None:
    before = table_counts()
    response = _upload(client, BAD_FIELD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = re.search(r'<td class="line">(\d+)</td><td class="field"><code>([^<]+)', html)
    assert row is not None
    assert row.groups() == ("9", "levels[0].requirements[0].threshold")
    assert "must be a positive number" in html
    assert table_counts() == before


def test_invalid_toml_shows_the_line(app, client, admin, table_counts) -> None:
    before = table_counts()
    html = _upload(client, BAD_SYNTAX, format="toml").get_data(as_text=True)
    assert "invalid TOML" in html
    assert "line 3" in html
    assert table_counts() == before


def test_yaml_error_has_a_line(app, client, admin) -> None:
    doc = "name: demo-college\nextends: cn-vocational-default\nwindow_years: many\n"
    html = _upload(client, doc, format="yaml").get_data(as_text=True)
    row = re.search(r'<td class="line">(\d+)</td><td class="field"><code>([^<]+)', html)
    assert row is not None
    assert row.groups() == ("3", "window_years")


def test_unknown_activity_kind_is_refused(app, client, admin) -> None:
    doc = COLLEGE.replace("threshold = 120", 'threshold = 120\nkinds = ["golf"]')
    html = _upload(client, doc).get_data(as_text=True)
    assert "levels[0].requirements[0].kinds[0]" in html


def test_file_upload(app, client, admin) -> None:
    response = client.post(
        "/admin/rulesets/new",
        data={"file": (io.BytesIO(COLLEGE.encode()), "college.toml"), "document": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    rec = _record(app, name="demo-college")
    assert (rec.version, rec.status, rec.format) == (1, "draft", "toml")


def test_upload_preview_publish(app, client, admin, make_activity) -> None:
    with app.app_context():
        today = local_today()
    # teacher1 has 150 days of practice and the hours: primary only under 120 days.
    t1 = admin["teacher1"]
    make_activity(
        t1, kind_code="enterprise_placement", starts_on=today - timedelta(days=400),
        ends_on=today - timedelta(days=251), days=150, status="verified",
    )  # fmt: skip
    make_activity(
        t1, kind_code="training", starts_on=today - timedelta(days=100),
        ends_on=today - timedelta(days=100), hours=Decimal("360"), status="verified",
    )  # fmt: skip

    response = _upload(client, COLLEGE)
    assert response.status_code == 302
    draft = _record(app, name="demo-college")
    assert (draft.version, draft.status, draft.extends) == (
        1, "draft", "cn-vocational-default",
    )  # fmt: skip
    # The built-in default was recorded first, as published version 1, still active.
    builtin = _record(app, name="cn-vocational-default")
    assert (builtin.version, builtin.status, builtin.is_active) == (
        1,
        "published",
        True,
    )

    html = client.get(
        f"/admin/rulesets/{draft.id}?department={admin['ai'].id}"
    ).get_data(as_text=True)
    assert f'data-teacher="{t1.id}" data-before="" data-after="primary"' in html
    assert 'id="ratio-active">0.0%' in html
    assert 'id="ratio-preview">33.3%' in html
    assert "Teachers whose level changes: 1" in html

    # COLLEGE lowers the public 180 days: publishing it takes a reason (issue 12).
    response = client.post(f"/admin/rulesets/{draft.id}/publish", data=REASON)
    assert response.status_code == 302
    published = _record(app, id=draft.id)
    assert (published.status, published.is_active) == ("published", True)
    assert published.extends_version == 1
    assert not _record(app, id=builtin.id).is_active

    # The pages now use it: teacher1 is dual-qualified.
    with app.app_context():
        active = records.active_ruleset()
        assert (active.name, active.version) == ("demo-college", 1)
        summary = services.evaluate_department(admin["ai"].id)
        assert summary.now.qualified == 1
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"ruleset.record_builtin", "ruleset.create", "ruleset.publish"} <= set(
        actions
    )


def _published(app, client) -> StoredRuleset:
    assert _upload(client, COLLEGE).status_code == 302
    draft = _record(app, name="demo-college")
    assert (
        client.post(f"/admin/rulesets/{draft.id}/publish", data=REASON).status_code
        == 302
    )
    return _record(app, id=draft.id)


def test_published_ruleset_cannot_be_edited(app, client, admin) -> None:
    rec = _published(app, client)
    response = client.post(
        f"/admin/rulesets/{rec.id}/edit",
        data={"document": COLLEGE.replace("120", "10")},
        follow_redirects=True,
    )
    assert "Published versions cannot be changed" in response.get_data(as_text=True)
    assert _record(app, id=rec.id).document == COLLEGE
    # Publishing twice changes nothing either.
    client.post(f"/admin/rulesets/{rec.id}/publish")
    assert _record(app, id=rec.id).published_at == rec.published_at
    with app.app_context():
        row = db.session.get(StoredRuleset, rec.id)
        with pytest.raises(records.RulesetLocked):
            records.update_draft(row, COLLEGE, "toml", actor=row, now=rec.created_at)


def test_database_refuses_changes_to_published_rows(app, client, admin) -> None:
    rec = _published(app, client)
    with app.app_context():
        row = db.session.get(StoredRuleset, rec.id)
        row.document = "name = 'x'"
        with pytest.raises(PublishedRulesetChanged):
            db.session.flush()
        db.session.rollback()
        row = db.session.get(StoredRuleset, rec.id)
        db.session.delete(row)
        with pytest.raises(PublishedRulesetChanged):
            db.session.flush()
        db.session.rollback()


def test_draft_can_be_edited_and_keeps_its_name(app, client, admin) -> None:
    assert _upload(client, COLLEGE).status_code == 302
    draft = _record(app, name="demo-college")
    response = client.post(
        f"/admin/rulesets/{draft.id}/edit",
        data={"document": COLLEGE.replace("threshold = 120", "threshold = 100")},
    )
    assert response.status_code == 302
    assert "threshold = 100" in _record(app, id=draft.id).document
    renamed = COLLEGE.replace('"demo-college"', '"other-college"')
    html = client.post(
        f"/admin/rulesets/{draft.id}/edit", data={"document": renamed}
    ).get_data(as_text=True)
    assert "A draft keeps its name" in html


def test_new_versions_count_on(app, client, admin) -> None:
    _published(app, client)
    assert _upload(client, COLLEGE.replace("120", "100")).status_code == 302
    with app.app_context():
        versions = db.session.scalars(
            select(StoredRuleset.version)
            .where(StoredRuleset.name == "demo-college")
            .order_by(StoredRuleset.version)
        ).all()
    assert versions == [1, 2]


def test_stored_evaluation_records_the_published_version(
    app, client, admin, make_activity
) -> None:
    rec = _published(app, client)
    with app.app_context():
        services.store_evaluations(admin["ai"].id, date(2026, 3, 1))
        db.session.commit()
        rows = db.session.scalars(select(Evaluation)).all()
    assert rows
    assert {(r.ruleset_name, r.ruleset_version) for r in rows} == {
        ("demo-college", rec.version)
    }
    assert all(r.report["ruleset_version"] == str(rec.version) for r in rows)


def test_published_child_keeps_its_parent_version(app, client, admin) -> None:
    """A newer published parent does not change a published child."""
    child = _published(app, client)
    parent = _record(app, name="cn-vocational-default")
    stricter = parent.document.replace("threshold = 360", "threshold = 400")
    assert _upload(client, stricter).status_code == 302
    parent_v2 = _record(app, name="cn-vocational-default", version=2)
    assert client.post(f"/admin/rulesets/{parent_v2.id}/publish").status_code == 302
    with app.app_context():
        row = db.session.get(StoredRuleset, child.id)
        parsed = records.parse_record(row)
        active = records.active_ruleset()
    assert (active.name, active.version) == ("cn-vocational-default", 2)
    assert active.ruleset.requirement("training_hours").threshold == 400
    assert parsed.requirement("training_hours").threshold == 360
    assert parsed.requirement("enterprise_practice").threshold == 120


def test_problems_are_shown_in_chinese(app, client, auth, world) -> None:
    """The validator writes English; the admin page speaks the admin's language."""
    auth.login("admin")  # default language: Chinese
    html = _upload(client, BAD_FIELD).get_data(as_text=True)
    assert "必须是正数" in html
    assert "must be a positive number" not in html
    doc = COLLEGE.replace("threshold = 120", 'threshold = 120\nkinds = ["golf"]')
    html = _upload(client, doc).get_data(as_text=True)
    assert "必须是以下之一：" in html
    assert "certificate" in html  # the allowed kinds are named as they are written


def test_problems_in_an_extended_ruleset_name_it_in_the_users_language(app) -> None:
    from pdtracker.admin.rulesets import _issues
    from pdtracker.progress.rulebook import N_, RulesetError, RulesetIssue

    error = RulesetError(
        [RulesetIssue(4, "window_years", N_("must be a whole number from %(low)s to "
                                            "%(high)s"), {"low": 1, "high": 50})],
        ("cn-province",),
    )  # fmt: skip
    assert "in extended ruleset 'cn-province': line 4" in str(error)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        [issue] = _issues(error)
    assert (
        issue["message"] == "被继承的规则集“cn-province”中：必须是 1 到 50 之间的整数"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        [issue] = _issues(error)
    assert issue["message"] == (
        "in extended ruleset “cn-province”: must be a whole number from 1 to 50"
    )
