"""A recognition round in the real browser: the teacher applies, the head checks the
form, a panel member votes, the college admin decides and publishes, and the
recognition appears on the teacher's page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.recognition.models import Recognition
from pdtracker.timeutil import utcnow
from tests.recognition.conftest import build_cast, qualify
from tests.recognition.flow import open_round


def _log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def _submit(page, action_suffix: str) -> None:
    page.click(f"form[action$='{action_suffix}'] button[type=submit]")
    page.wait_for_load_state()


def test_round_from_application_to_recognition(app, live_server, page):
    cast = build_cast(app)
    qualify(app, cast["teacher1"], "primary")
    with app.app_context():
        rnd = open_round(utcnow() - timedelta(hours=1), name="浏览器批次")
        db.session.commit()
        round_id = rnd.id
    base = live_server

    _log_in(page, base, "teacher1")
    page.goto(f"{base}/recognition/")
    page.click(f"a[href='/recognition/rounds/{round_id}/apply']")
    page.wait_for_load_state()
    assert page.get_attribute("#precheck", "data-meets") == "yes"
    page.fill("#statement", "申请初级双师型教师认定")
    _submit(page, f"/rounds/{round_id}/apply")
    assert "/recognition/applications/" in page.url
    application_url = page.url.replace(base, "")
    assert "国培计划" in page.inner_text("#snapshot-activities")

    _log_in(page, base, "head_ai")
    page.goto(f"{base}/recognition/checks")
    page.click(f"#check-queue a[href='{application_url}']")
    page.wait_for_load_state()
    page.check("input[name='check-outcome'][value='complete']")
    _submit(page, "/check")
    assert page.get_attribute("h1 .badge", "data-state") == "formal_ok"

    _log_in(page, base, "reviewer_me")
    page.goto(f"{base}/recognition/reviews")
    page.click(f"#review-list a[href='{application_url}']")
    page.wait_for_load_state()
    page.check("input[name='vote-choice'][value='approve']")
    page.fill("#vote-reason", "企业实践与培训学时均达标")
    _submit(page, "/vote")
    assert "企业实践与培训学时均达标" in page.inner_text("#votes")

    _log_in(page, base, "cadmin")
    page.goto(f"{base}{application_url}")
    page.check("input[name='decide-outcome'][value='approve']")
    page.select_option("#decide-level", "primary")
    _submit(page, "/decide")
    assert page.get_attribute("#decision", "data-outcome") == "approve"
    page.goto(f"{base}/recognition/rounds/{round_id}")
    _submit(page, "/close")
    _submit(page, "/publish")
    assert page.get_attribute("h1 .badge", "data-state") == "published"

    with app.app_context():
        rec = db.session.scalar(select(Recognition))
        assert rec is not None
        number = rec.certificate_number
    _log_in(page, base, "teacher1")
    page.goto(f"{base}/recognition/")
    row = page.inner_text("#my-recognitions")
    assert number in row
    assert page.get_attribute("#my-recognitions .badge", "data-state") == "active"
