"""Issue 11 in the real browser: an admin uploads a records file, fixes a column in
the preview, applies it as verified, downloads the error file; the teacher's
progress page then counts the imported history."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.onboarding import activation
from pdtracker.onboarding.services import run_import
from pdtracker.timeutil import utcnow
from tests.onboarding.conftest import sample, xlsx

PASSWORD = "pdtracker-demo"
HEADER = (
    "工号",
    "培训项目",
    "培训类型",
    "日期",
    "获得学时",
)  # 日期: not a known header
ROWS = (
    ("00123", "职业院校教师素质提高计划（国培）", "国培", "2024-07-10", 20),
    ("00123", "智能制造行业年会", "行业会议", "2025-03-02", 16),
    ("00123", "春季郊游", "春游", "2025-04-02", 4),  # an unknown type: an error row
)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_admin_imports_records_and_teacher_sees_the_history(
    app, live_server, page, tmp_path, make_department, make_user
):
    make_department("AI", "人工智能技术应用系")
    make_department("ME", "机电工程系")
    make_user("admin", Role.ADMIN)
    with app.app_context():
        _, applied = run_import("people", sample("people.xlsx"), filename="people.xlsx",
                                actor=None, now=utcnow())  # fmt: skip
        db.session.commit()
        wang = next(a for a in applied.accounts if a.staff_number == "00123")
        activation.activate(wang.token, PASSWORD, utcnow())
        db.session.commit()
    records = tmp_path / "台账.xlsx"
    records.write_bytes(xlsx(HEADER, *ROWS))

    _log_in(page, live_server, "admin")
    page.goto(f"{live_server}/imports/")
    page.select_option("#importer", "records")
    page.set_input_files("#file", str(records))
    with page.expect_navigation():  # sent by import-progress.js, which then navigates
        page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#rows [data-code=missing_value]").count() == 3

    page.select_option("#col_3", "starts_on")  # the preview's mapping, fixed
    page.click("#mapping-form button[type=submit]:not(#apply)")
    page.wait_for_load_state()
    assert page.locator("#rows [data-action=create]").count() == 2
    assert page.locator("#rows [data-code=unknown_type]").count() == 1

    page.check("#verified")
    page.click("#apply")
    page.wait_for_load_state()
    assert page.locator("[data-count=created]").inner_text().endswith("2")
    with page.expect_download() as info:
        page.click("#result-file")
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "错误原因"
    assert rows[1][:3] == (4, "00123", "春季郊游")

    page.context.clear_cookies()
    _log_in(page, live_server, "00123")
    page.goto(f"{live_server}/progress/")
    hours = page.locator("[data-requirement=training_hours]").get_attribute(
        "data-credited"
    )
    assert float(hours) == 36  # 20 + 16 imported, verified hours
