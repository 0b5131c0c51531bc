"""In the browser: a recognised teacher downloads the certificate, its text names them,
and the check page its QR code opens says valid."""

from __future__ import annotations

from pdtracker.auth.models import Role
from tests.factories import make_recognition
from tests.papers.conftest import pdf_text, qr_codes


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_teacher_downloads_certificate_and_checks_it(
    app, live_server, page, make_department, make_user, tmp_path
):
    ai = make_department("AI", "人工智能技术应用系")
    teacher = make_user("wxh", Role.TEACHER, department=ai, display_name="王小华")
    rec = make_recognition(app, teacher)
    _log_in(page, live_server, "wxh")
    page.goto(f"{live_server}/papers/")
    with page.expect_download() as info:
        page.click("#recognitions button[type=submit]")
    download = info.value
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    data = path.read_bytes()
    assert download.suggested_filename.endswith(".pdf")
    text = pdf_text(data, tmp_path)
    assert "王小华" in text
    assert rec.certificate_number in text
    [url] = qr_codes(data, tmp_path)
    assert url == f"{live_server}/verify/{rec.certificate_number}"

    page.context.clear_cookies()
    page.goto(url)
    assert page.locator("[data-state]").get_attribute("data-state") == "valid"
    assert "王*华" in page.content()
