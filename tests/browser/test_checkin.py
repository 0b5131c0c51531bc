"""Check-in at the door, as people do it (issue 15).

Staff open a session's check-in screen; the test photographs it (a screenshot),
reads the QR code with zbarimg, and opens the code's URL on a phone-sized page as
a teacher who is not logged in yet: log in, come back, tap once, and the teacher's
records show the credited session.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.checkin.conftest import new_event, register
from tests.support import require_tool

pytestmark = pytest.mark.browser

TITLE = "产教融合专题研讨会"


def _log_in(page, base: str, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _decode(png: bytes, tmp_path) -> str:
    require_tool(
        shutil.which("zbarimg") is not None, "zbarimg (apt-get install zbar-tools)"
    )
    path = tmp_path / "screen.png"
    path.write_bytes(png)
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file we wrote
        ["zbarimg", "--quiet", "--raw", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_staff_screen_to_teacher_phone_to_credited_record(
    app, live_server, browser, page, world, tmp_path
) -> None:
    event = new_event(app, title=TITLE)
    register(app, world["teacher1"], event)

    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    screen = staff.new_page()
    screen.goto(f"{live_server}/login")
    _log_in(screen, live_server, "staff1")
    screen.goto(f"{live_server}/checkin/events/{event.id}")
    with staff.expect_page() as opened:
        screen.click("a[href*='/screen']")  # opens the screen in a new tab
    door = opened.value
    door.wait_for_load_state()
    assert door.locator("#checkin-code svg").is_visible()
    assert door.locator("meta[http-equiv=refresh]").count() == 1
    url = _decode(door.screenshot(), tmp_path)
    staff.close()
    assert url.startswith(f"{live_server}/checkin/")

    page.goto(url)  # the teacher's phone (390 × 844), not logged in
    assert "/login" in page.url
    _log_in(page, live_server, "teacher1")
    assert page.url == url
    button = page.locator("#checkin-button")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390  # reachable on the phone
    button.click()
    page.wait_for_load_state()
    assert "/done" in page.url
    assert page.locator(".alert-success").is_visible()

    page.click("main a.btn[href='/activities/']")
    page.wait_for_load_state()
    assert page.locator("body").get_by_text(TITLE).first.is_visible()
