"""A college admin picks their college's departments in a real browser, and the
college page names the layer that applied (docs/status-rules.md S22)."""

from __future__ import annotations

import pytest

from tests.tenancy.conftest import build_two_colleges

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_college_admin_moves_between_their_departments(app, live_server, page):
    w = build_two_colleges(app)
    _login(page, live_server, "cadmin1")
    page.goto(f"{live_server}/progress/department")
    options = page.locator("select#department option").all_text_contents()
    assert sorted(options) == sorted(["人工智能技术应用系", "机电工程系"])
    page.select_option("select#department", str(w["demo_me"].id))
    page.click("form:has(select#department) button[type=submit]")
    page.wait_for_load_state()
    assert "机电工程系" in page.locator("h1").inner_text()
    assert f"department={w['demo_me'].id}" in page.url
    # From there to the college's overview: both departments, one ruleset.
    page.click(f"a[href*='/progress/college?college={w['demo'].id}']")
    page.wait_for_load_state()
    rows = page.locator("#college-departments tbody tr")
    assert rows.count() == 2
    applied = page.locator("#ruleset-applied")
    assert applied.get_attribute("data-ruleset-name") == "cn-vocational-default"
    assert "北城" not in page.content()
