"""An oversize file is refused in the browser, before the form is sent, keeping the form."""

from __future__ import annotations

from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_oversize_evidence_is_refused_before_sending(
    app, live_server, page, world, tmp_path
) -> None:
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024  # 1 MB: a small file suffices
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(PDF + b"0" * (2 * 1024 * 1024))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method))

    page.goto(f"{live_server}/login")
    page.fill("#username", "teacher1")
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/activities/new")
    page.fill("#title", "企业新技术培训")
    page.fill("#starts_on", "2026-03-10")
    page.fill("#hours", "3")
    page.set_input_files("#evidence", str(big))

    feedback = page.locator(".upload-size-feedback")
    assert "1 MB" in feedback.inner_text()
    assert page.input_value("#title") == "企业新技术培训"  # the form is still there
    requests.clear()
    page.eval_on_selector("form[enctype]", "f => f.requestSubmit()")
    page.wait_for_timeout(300)
    assert "POST" not in requests
    assert page.url.endswith("/activities/new")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Activity)) == 0
    # A file within the limit clears the message and the form goes through.
    small = tmp_path / "证明.pdf"
    small.write_bytes(PDF)
    page.set_input_files("#evidence", str(small))
    assert page.locator(".upload-size-feedback").count() == 0
    with page.expect_navigation():
        page.eval_on_selector("form[enctype]", "f => f.requestSubmit()")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
