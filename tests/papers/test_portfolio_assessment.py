"""The 企业实践考核表 in the teacher's portfolio, and the printable 考核表.

Each completed placement's assessment (enterprise, mentor, dates, the four
scores, comments, days on site and days confirmed) is printed in the portfolio
PDF; another teacher's never is, nor that of a placement not completed, nor,
in an application's portfolio, one whose placement the application did not
submit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale

from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from pdtracker.placements.market_models import AttendanceDay, MentorAssessment
from pdtracker.placements.models import Placement
from pdtracker.recognition.models import RecognitionApplication
from tests import factories
from tests.factories import make_recognition
from tests.papers.conftest import pdf_text
from tests.placements import test_market as market_flow
from tests.placements.market_cast import add_market, make_mentor
from tests.tenancy.conftest import build_two_colleges


def assessed_placement(
    app: Flask,
    teacher: Any,
    enterprise: Any,
    mentor: Any,
    *,
    starts_on: date,
    comments: str,
    status: str = "completed",
    scale: str = "grade",
    scores: tuple[int, int, int, int] = (4, 3, 4, 2),
    confirmed_days: int = 10,
    on_site: int = 0,
) -> tuple[int, int | None]:
    """A placement with the mentor's assessment (and, completed, its activity)."""
    ends_on = date.fromordinal(starts_on.toordinal() + 13)
    with app.app_context():
        activity = None
        if status == "completed":
            activity = Activity(
                teacher_id=teacher.id, kind_code="enterprise_placement",
                title=f"企业实践：{enterprise.name}", starts_on=starts_on,
                ends_on=ends_on, days=confirmed_days, status="verified",
                verified_at=datetime(2026, 1, 1, tzinfo=UTC),
            )  # fmt: skip
            db.session.add(activity)
            db.session.flush()
        placement = Placement(
            teacher_id=teacher.id, enterprise_id=enterprise.id, starts_on=starts_on,
            ends_on=ends_on, working_days=10, status=status, mentor_id=mentor.id,
            activity_id=activity.id if activity else None,
            report_stored_name=f"r{starts_on}{teacher.id}" if activity else None,
        )  # fmt: skip
        db.session.add(placement)
        db.session.flush()
        db.session.add_all(
            AttendanceDay(placement_id=placement.id,
                          day=date.fromordinal(starts_on.toordinal() + n))
            for n in range(on_site)
        )  # fmt: skip
        attendance, task, skill, attitude = scores
        db.session.add(
            MentorAssessment(
                placement_id=placement.id, mentor_id=mentor.id, scale=scale,
                attendance_score=attendance, task_score=task, skill_score=skill,
                attitude_score=attitude, comments=comments,
                confirmed_days=confirmed_days,
                submitted_at=datetime(2026, 4, 30, 17, 0, tzinfo=UTC),
            )
        )  # fmt: skip
        db.session.commit()
        return placement.id, activity.id if activity else None


@pytest.fixture
def cast(app: Flask, people) -> dict[str, Any]:
    huawei = factories.make_enterprise(app, "华为技术有限公司")
    gree = factories.make_enterprise(app, "珠海格力电器股份有限公司", city="珠海")
    return {
        **people,
        "huawei": huawei,
        "gree": gree,
        "mentor": make_mentor(app, "mentor1", huawei.id),
        "gree_mentor": make_mentor(app, "mentor2", gree.id),
    }


def test_the_portfolio_prints_each_completed_placements_assessment(
    app, client, auth, cast, tmp_path
):
    teacher = cast["teacher"]
    assessed_placement(
        app, teacher, cast["huawei"], cast["mentor"], starts_on=date(2026, 3, 2),
        comments="动手能力强", on_site=9, confirmed_days=9,
    )  # fmt: skip
    assessed_placement(
        app, teacher, cast["gree"], cast["gree_mentor"], starts_on=date(2026, 7, 6),
        comments="工艺改进有成效", scale="points", scores=(95, 88, 91, 79),
        confirmed_days=12,
    )  # fmt: skip
    assessed_placement(  # under way: its assessment may still change
        app, teacher, cast["huawei"], cast["mentor"], starts_on=date(2026, 10, 5),
        comments="尚未结束", status="in_progress",
    )  # fmt: skip
    assessed_placement(  # a colleague's
        app, cast["colleague"], cast["gree"], cast["gree_mentor"],
        starts_on=date(2026, 5, 4), comments="他人的评语",
    )  # fmt: skip
    auth.login("wxh")
    response = client.get("/papers/portfolio.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    for expected in (
        "华为技术有限公司", "mentor1", "2026-03-02", "2026-03-15", "动手能力强",
        "珠海格力电器股份有限公司", "mentor2", "2026-07-06", "2026-07-19",
        "工艺改进有成效", "95/100", "88/100", "91/100", "79/100",
        "2026-05-01",  # filled on, in Asia/Shanghai (17:00 UTC is past midnight)
    ):  # fmt: skip
        assert expected in text, expected
    first = text[text.index("mentor1") : text.index("动手能力强")]
    for grade in ("优", "良", "中"):  # the four scores: 优, 良, 优, 中
        assert grade in first
    assert "尚未结束" not in text
    assert "他人的评语" not in text
    assert "2026-05-04" not in text  # the colleague's dates


def test_the_html_names_each_score_and_the_days(app, cast):
    from flask import render_template

    from pdtracker.papers.portfolio import current_portfolio

    teacher = cast["teacher"]
    placement_id, _activity = assessed_placement(
        app, teacher, cast["huawei"], cast["mentor"], starts_on=date(2026, 3, 2),
        comments="动手能力强", on_site=8, confirmed_days=7,
    )  # fmt: skip
    with app.test_request_context(), force_locale("en"):
        from pdtracker.auth.models import User

        p = current_portfolio(db.session.get(User, teacher.id), datetime.now(UTC))
        html = render_template("papers/portfolio.html", p=p, paper=None,
                               font_url="", created="")  # fmt: skip
    table = html[html.index(f'id="assessment-{placement_id}"') :]
    table = table[: table.index("</table>")]
    for label in ("Attendance", "Task completion", "Professional skill",
                  "Work attitude", "Days on site recorded",
                  "Days confirmed by the mentor", "Comments"):  # fmt: skip
        assert f"<th>{label}</th>" in table
    assert '<td class="num">8</td>' in table  # days on site
    assert '<td class="num">7</td>' in table  # days confirmed
    assert "<td>优</td>" in table


def test_an_application_prints_the_assessments_it_submitted(
    app, client, auth, cast, tmp_path
):
    teacher = cast["teacher"]
    _, submitted = assessed_placement(
        app, teacher, cast["huawei"], cast["mentor"], starts_on=date(2026, 3, 2),
        comments="提交时已完成",
    )  # fmt: skip
    assessed_placement(  # completed after the application was submitted
        app, teacher, cast["gree"], cast["gree_mentor"], starts_on=date(2026, 8, 3),
        comments="提交之后完成",
    )  # fmt: skip
    other_placement, other_activity = assessed_placement(
        app, cast["colleague"], cast["gree"], cast["gree_mentor"],
        starts_on=date(2026, 5, 4), comments="他人的评语",
    )  # fmt: skip
    rec = make_recognition(app, teacher)
    with app.app_context():
        application = db.session.get(RecognitionApplication, rec.application_id)
        # A forged snapshot naming the colleague's activity prints nothing of theirs.
        application.snapshot = {
            "as_of": "2026-06-01",
            "report": {"level": "primary"},
            "activities": [
                {"id": i, "kind": "enterprise_placement", "title": "企业实践",
                 "organizer": None, "starts_on": "2026-03-02", "ends_on": None,
                 "hours": None, "days": 10, "evidence": []}
                for i in (submitted, other_activity)
            ],
        }  # fmt: skip
        db.session.commit()
    auth.login("head1")
    response = client.get(f"/papers/portfolio/{rec.application_id}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "提交时已完成" in text
    assert "提交之后完成" not in text
    assert "他人的评语" not in text


def test_the_whole_flow_lands_in_the_portfolio(app, client, auth, tmp_path):
    """Offer, seat, mentor's attendance and 考核表, completion: then the portfolio."""
    market = add_market(app, build_two_colleges(app))
    market_flow.test_completion_requires_the_assessment_and_credits_confirmed_days(
        app, auth, market
    )
    auth.logout()
    auth.login("teacher1")
    text = pdf_text(client.get("/papers/portfolio.pdf").data, tmp_path)
    assert "认真" in text  # the mentor's comments
    assert "华为技术有限公司" in text
    auth.logout()
    auth.login("teacher2")
    assert "认真" not in pdf_text(client.get("/papers/portfolio.pdf").data, tmp_path)


def test_the_printable_assessment_is_linked_from_the_teachers_placement(
    app, client, auth, cast
):
    placement_id, _ = assessed_placement(
        app, cast["teacher"], cast["huawei"], cast["mentor"],
        starts_on=date(2026, 3, 2), comments="动手能力强", confirmed_days=9,
    )  # fmt: skip
    printable = f"/placements/{placement_id}/assessment/print"
    auth.login("wxh")
    page = client.get(f"/placements/{placement_id}")
    assert page.status_code == 200
    assert f'href="{printable}"' in page.text
    sheet = client.get(printable)
    assert sheet.status_code == 200
    assert "@media print" in sheet.text
    assert "动手能力强" in sheet.text
    assert 'id="confirmed-days">9<' in sheet.text
    auth.logout()
    auth.login("teacher2")  # a colleague of the same department
    assert client.get(printable).status_code == 404
