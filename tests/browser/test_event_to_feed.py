"""A new teacher registers for an event, finds it, copies the feed link, fetches it.

The feed is then fetched as a calendar app would: a plain HTTP GET without the
browser's cookies.
"""

from __future__ import annotations

import re
import urllib.request

from icalendar import Calendar

from tests.calendar.feedkit import FeedKit

TITLE = "智能制造专业群建设专家讲座"


def test_register_then_subscribe_and_fetch_the_feed(
    app, live_server, page, world
) -> None:
    event = FeedKit(app).event(title=TITLE, location="图书馆报告厅")
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server
    )

    page.goto(f"{live_server}/login")
    page.fill("#username", "teacher1")
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url

    page.goto(f"{live_server}/events/{event.id}")
    page.click(f"form[action$='/events/{event.id}/register'] button")
    page.wait_for_load_state()
    assert page.locator(".badge.text-bg-success").count() == 1

    # The events list now marks the event as mine.
    page.goto(f"{live_server}/events/")
    card = page.locator(".card", has_text=TITLE)
    assert card.locator(".badge.text-bg-success").is_visible()

    page.goto(f"{live_server}/calendar/")
    field = page.locator("#feed-url-teacher")
    url = field.input_value()
    assert re.fullmatch(rf"{re.escape(live_server)}/calendar/t/[\w-]{{43}}\.ics", url)
    webcal = page.locator("#feed-teacher a[data-feed-link=webcal]").get_attribute(
        "href"
    )
    assert webcal == "webcal://" + url.split("://", 1)[1]
    button = page.locator("button[data-copy=feed-url-teacher]")
    label = button.inner_text()
    button.click()
    page.wait_for_function(
        "([el, before]) => el.textContent !== before",
        arg=[button.element_handle(), label],
    )
    assert page.evaluate("navigator.clipboard.readText()") == url

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert response.headers.get("Set-Cookie") is None
        body = response.read()
    found = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    assert str(found[event.uid]["SUMMARY"]) == TITLE
    assert found[event.uid].start == event.starts_at
