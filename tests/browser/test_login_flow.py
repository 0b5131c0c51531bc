"""A user logs in and out with the real browser, on a phone-sized screen."""

from __future__ import annotations


def test_teacher_logs_in_and_sees_chinese_navigation(live_server, page, world) -> None:
    page.goto(f"{live_server}/login")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("#username", "teacher1")
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    page.click(".navbar-toggler")
    assert page.locator("button", has_text="退出").is_visible()
