"""Issue 2's vertical slice in the real browser: a teacher logs an activity with a PDF,
the department head verifies it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TITLE = "人工智能大模型应用专家讲座（浏览器测试）"


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def _log_out(page) -> None:
    page.context.clear_cookies()


def test_teacher_logs_activity_with_pdf_and_head_verifies(
    app, live_server, page, tmp_path
):
    with app.app_context():
        from pdtracker.demo import seed_demo

        seed_demo(today=date(2026, 11, 25))
    evidence = tmp_path / "讲座证明.pdf"
    evidence.write_bytes(PDF)

    _log_in(page, live_server, "teacher1")
    page.goto(f"{live_server}/activities/new")
    page.select_option("#kind_code", "expert_lecture")
    page.fill("#title", TITLE)
    page.fill("#starts_on", "2026-11-20")
    page.fill("#ends_on", "2026-11-20")
    page.fill("#hours", "3")
    page.set_input_files("#evidence", str(evidence))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert TITLE in page.content()
    assert "讲座证明.pdf" in page.content()

    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.title == TITLE))
        assert activity is not None
        assert activity.status == "completed"
        assert [e.original_name for e in activity.evidence] == ["讲座证明.pdf"]
        activity_id = activity.id

    _log_out(page)
    _log_in(page, live_server, "head1")
    page.goto(f"{live_server}/activities/review")
    row = page.locator("tr", has_text=TITLE)
    assert row.count() == 1
    row.locator("button", has_text="审核通过").click()
    page.wait_for_load_state()

    with app.app_context():
        activity = db.session.get(Activity, activity_id)
        assert activity.status == "verified"
        assert activity.verified_by.username == "head1"
