"""The planner's credited days follow the dates as a head types them (issue 15)."""

from __future__ import annotations


def test_credited_days_follow_the_dates(live_server, page, world) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#username", "head1")
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/placements/new")
    note = page.locator("#credited-days")
    assert note.get_attribute("data-credited") == ""

    page.fill("#starts_on", "2026-03-02")  # a Monday
    page.fill("#ends_on", "2026-03-15")  # two weeks later, a Sunday
    page.locator("#ends_on").dispatch_event("change")
    page.wait_for_selector('#credited-days[data-credited="14"]')
    # Calendar days count under the default rules; the line says why, not 10.
    assert "14" in note.inner_text()
    assert "10" in note.inner_text()

    page.fill("#ends_on", "2026-03-06")
    page.locator("#ends_on").dispatch_event("change")
    page.wait_for_selector('#credited-days[data-credited="5"]')
