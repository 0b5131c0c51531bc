"""The teacher's activity log: list, filters, create, edit, delete, per-kind fields."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise
from tests.activities.conftest import PDF, file_field, lecture_data


def _activities(app) -> list[Activity]:
    with app.app_context():
        rows = list(db.session.scalars(select(Activity).order_by(Activity.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _actions(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        )


def test_create_lecture_with_evidence(app, client, auth, world, uploaded_files) -> None:
    auth.login("teacher1")
    data = lecture_data(evidence=file_field(PDF, "讲座签到表.pdf"))
    response = client.post("/activities/new", data=data)
    assert response.status_code == 302
    [activity] = _activities(app)
    assert activity.teacher_id == world["teacher1"].id
    assert activity.hours == Decimal("3.0")
    assert activity.status == "completed"
    assert activity.source == "self"
    assert activity.days is None
    [stored] = uploaded_files()
    assert stored.read_bytes() == PDF
    assert stored.suffix == ".pdf"
    assert "讲座" not in stored.name
    assert _actions(app) == ["activity.create", "activity.evidence_add"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "讲座签到表.pdf" in page
    assert "专家讲座" in page  # the kind's label in the user's language


def test_kind_labels_follow_the_language(
    app, client, auth, world, make_activity
) -> None:
    make_activity(world["teacher1"], title="一次讲座")
    auth.login("teacher1")
    zh = client.get("/activities/").get_data(as_text=True)
    assert "专家讲座" in zh
    assert '<h1 class="h3 mb-0">我的记录</h1>' in zh  # not 活动: that is events
    client.post("/language", data={"locale": "en"})
    page = client.get("/activities/").get_data(as_text=True)
    assert "Expert lecture" in page
    assert "My records" in page  # the nav and the heading say the same


def test_form_marks_kind_options_and_rows_with_units(client, auth, world) -> None:
    auth.login("teacher1")
    page = client.get("/activities/new").get_data(as_text=True)
    assert 'id="kind_code"' in page
    assert '<option data-unit="hours" value="expert_lecture">' in page
    assert 'data-unit="days"' in page
    assert 'data-for-unit="hours"' in page
    assert 'data-for-unit="days"' in page
    assert 'data-for-unit="certificate"' in page
    assert 'enctype="multipart/form-data"' in page


def test_placement_days_are_computed_from_the_span(app, client, auth, world) -> None:
    with app.app_context():
        enterprise = Enterprise(name="华为技术有限公司", city="深圳")
        db.session.add(enterprise)
        db.session.commit()
        enterprise_id = enterprise.id
    auth.login("teacher1")
    data = lecture_data(
        kind_code="enterprise_placement",
        title="暑期企业实践",
        starts_on="2026-07-01",
        ends_on="2026-07-20",
        hours="-5",  # left over in the hidden field: ignored for a placement
        enterprise_id=str(enterprise_id),
    )
    assert client.post("/activities/new", data=data).status_code == 302
    [activity] = _activities(app)
    assert activity.days == 20
    assert activity.hours is None
    assert activity.enterprise_id == enterprise_id


def test_placement_days_given_win_over_the_span(app, client, auth, world) -> None:
    auth.login("teacher1")
    data = lecture_data(
        kind_code="enterprise_placement",
        starts_on="2026-07-01",
        ends_on="2026-07-31",
        days="22",
        organizer="本地合作企业",
        hours=None,
    )
    assert client.post("/activities/new", data=data).status_code == 302
    assert _activities(app)[0].days == 22


def test_placement_needs_a_host(app, client, auth, world, table_counts) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    data = lecture_data(kind_code="enterprise_placement", hours=None)
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    assert "Choose the host enterprise" in response.get_data(as_text=True)
    assert table_counts() == before


def test_certificate_needs_a_grade_and_keeps_expiry(app, client, auth, world) -> None:
    auth.login("teacher1")
    data = lecture_data(
        kind_code="certificate", title="人工智能训练师", hours=None, ends_on=None
    )
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    assert _activities(app) == []
    data.update(grade="intermediate", ends_on="2029-03-09")
    assert client.post("/activities/new", data=data).status_code == 302
    [activity] = _activities(app)
    assert activity.grade == "intermediate"
    assert activity.ends_on == date(2029, 3, 9)
    assert activity.hours is None


def test_hours_are_required_for_hour_kinds(
    app, client, auth, world, table_counts
) -> None:
    auth.login("teacher1")
    before = table_counts()
    response = client.post("/activities/new", data=lecture_data(hours=None))
    assert response.status_code == 200
    assert 'id="hours"' in response.get_data(as_text=True)
    assert "is-invalid" in response.get_data(as_text=True)
    assert table_counts() == before


def test_planned_status_is_allowed_but_verified_is_not(
    app, client, auth, world
) -> None:
    auth.login("teacher1")
    assert (
        client.post("/activities/new", data=lecture_data(status="planned")).status_code
        == 302
    )
    response = client.post("/activities/new", data=lecture_data(status="verified"))
    assert response.status_code == 200
    assert [a.status for a in _activities(app)] == ["planned"]


def test_invalid_form_keeps_what_was_typed(client, auth, world) -> None:
    auth.login("teacher1")
    data = lecture_data(title="我的标题 & 细节", hours="-2", location="实训楼 301")
    page = client.post("/activities/new", data=data).get_data(as_text=True)
    assert "我的标题 &amp; 细节" in page
    assert "实训楼 301" in page
    assert 'value="-2"' in page


def test_list_filters_and_paginates(app, client, auth, world, make_activity) -> None:
    teacher = world["teacher1"]
    for day in range(1, 26):
        make_activity(teacher, title=f"讲座 {day:02d}", starts_on=date(2025, 5, day))
    make_activity(
        teacher, kind_code="seminar", title="座谈 2026", starts_on=date(2026, 1, 5)
    )
    make_activity(
        teacher, title="计划中的讲座", starts_on=date(2026, 2, 1), status="planned"
    )
    make_activity(world["teacher2"], title="别人的讲座")
    auth.login("teacher1")

    first = client.get("/activities/").get_data(as_text=True)
    assert "别人的讲座" not in first
    assert "计划中的讲座" in first  # newest first
    assert "page=2" in first
    second = client.get("/activities/?page=2").get_data(as_text=True)
    assert "讲座 01" in second

    seminars = client.get("/activities/?kind=seminar").get_data(as_text=True)
    assert "座谈 2026" in seminars
    assert "讲座 01" not in seminars
    planned = client.get("/activities/?status=planned").get_data(as_text=True)
    assert "计划中的讲座" in planned
    assert "座谈 2026" not in planned
    year = client.get("/activities/?year=2025&page=2").get_data(as_text=True)
    assert "讲座 01" in year
    assert "座谈 2026" not in year
    junk = client.get("/activities/?kind=nope&status=x&year=abc&page=zz")
    assert junk.status_code == 200


def test_edit_keeps_owner_and_audits(app, client, auth, world, make_activity) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("teacher1")
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert activity.title in form
    response = client.post(
        f"/activities/{activity.id}/edit",
        data=lecture_data(title="改过的标题", hours="4.5"),
    )
    assert response.status_code == 302
    [row] = _activities(app)
    assert (row.title, row.hours) == ("改过的标题", Decimal("4.5"))
    assert _actions(app) == ["activity.update"]


def test_editing_a_rejected_activity_sends_it_back(
    app, client, auth, world, make_activity
) -> None:
    activity = make_activity(
        world["teacher1"], status="rejected", rejection_reason="缺少签到表"
    )
    auth.login("teacher1")
    form = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert "缺少签到表" in form
    data = lecture_data(title="补充了材料")
    del data["status"]
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 302
    [row] = _activities(app)
    assert row.status == "completed"
    assert row.rejection_reason is None


def test_delete_removes_row_and_files(
    app, client, auth, world, make_activity, make_evidence, uploaded_files
) -> None:
    activity = make_activity(world["teacher1"])
    make_evidence(activity)
    assert len(uploaded_files()) == 1
    auth.login("teacher1")
    response = client.post(f"/activities/{activity.id}/delete")
    assert response.status_code == 302
    assert _activities(app) == []
    assert uploaded_files() == []
    assert _actions(app) == ["activity.delete"]


@pytest.mark.parametrize("path", ["/activities/{id}/edit", "/activities/{id}/delete"])
def test_verified_activity_is_locked(
    app,
    client,
    auth,
    world,
    make_activity,
    make_evidence,
    table_counts,
    load_activity,
    path,
) -> None:
    activity = make_activity(world["teacher1"], status="verified")
    make_evidence(activity)
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    response = client.post(
        path.format(id=activity.id), data=lecture_data(title="偷偷改")
    )
    assert response.status_code == 403
    assert "has been verified and can no longer be changed" in response.get_data(
        as_text=True
    )
    assert table_counts() == before
    assert load_activity(activity.id).title == activity.title


def test_verified_activity_page_explains_the_lock(
    client, auth, world, make_activity
) -> None:
    activity = make_activity(world["teacher1"], status="verified")
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    page = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "locked" in page
    assert f"/activities/{activity.id}/edit" not in page
    assert f"/activities/{activity.id}/delete" not in page
    assert f'/activities/{activity.id}/evidence"' not in page
    response = client.get(f"/activities/{activity.id}/edit")
    assert response.status_code == 302
    assert "no longer be changed" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x.hta", "x.pdf"),
        ("报告.html", "报告.pdf"),
        ("run.bat", "run.pdf"),
        ("证明.pdf.exe", "证明.pdf"),
        ("noext", "noext.pdf"),
        ("证明.pdf", "证明.pdf"),
    ],
)
def test_download_has_the_extension_of_the_detected_type(
    app, client, auth, world, make_activity, name, expected
) -> None:
    """A PDF uploaded as x.hta is saved by the browser as x.pdf, never run."""
    activity = make_activity(world["teacher1"])
    auth.login("teacher1")
    upload = client.post(
        f"/activities/{activity.id}/evidence", data={"evidence": file_field(PDF, name)}
    )
    assert upload.status_code == 302
    [evidence] = _evidence_rows(app)
    with client.get(f"/activities/{activity.id}/evidence/{evidence.id}") as response:
        assert response.get_data() == PDF
    assert response.mimetype == "application/pdf"
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", expected)


def _evidence_rows(app) -> list:
    from pdtracker.activities.models import EvidenceFile

    with app.app_context():
        rows = list(db.session.scalars(select(EvidenceFile)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _english(client) -> None:
    client.post("/language", data={"locale": "en"})


def test_completed_activity_in_the_future_is_refused(
    app, client, auth, world, table_counts
) -> None:
    auth.login("teacher1")
    _english(client)
    later = (date.today() + timedelta(days=3)).isoformat()
    before = table_counts()
    data = lecture_data(title="明天的讲座", starts_on=later, ends_on=later)
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "A completed activity cannot end in the future" in page
    assert "明天的讲座" in page  # what was typed is kept
    assert f'value="{later}"' in page
    assert table_counts() == before
    # The same, planned, is fine (a certificate's future expiry date is too:
    # test_certificate_needs_a_grade_and_keeps_expiry).
    planned = lecture_data(starts_on=later, ends_on=later, status="planned")
    assert client.post("/activities/new", data=planned).status_code == 302


def test_over_long_title_is_refused_not_cut(app, client, auth, world) -> None:
    auth.login("teacher1")
    _english(client)
    page = client.get("/activities/new").get_data(as_text=True)
    assert "maxlength" not in page  # a browser would cut a pasted title silently
    title = "产" * 201
    response = client.post("/activities/new", data=lecture_data(title=title))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The title can have at most 200 characters; this one has 201." in page
    assert title in page
    assert _activities(app) == []
