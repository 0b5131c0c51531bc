"""Issue 17 in the real browser: staff publish an offer, head1 requests a seat for a
teacher short of practice days, mentor1 confirms, records days on site and fills the
企业实践考核表, head1 completes the placement, and the teacher's days still needed
fall by exactly the days the mentor confirmed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.placements.market_models import PlacementOffer, PlacementRequest
from pdtracker.placements.matching import practice_needed
from pdtracker.placements.models import Placement
from pdtracker.timeutil import local_today
from tests.placements.market_cast import add_market
from tests.tenancy.conftest import build_two_colleges

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
POST = "工业视觉检测工程师（浏览器测试）"
CONFIRMED = 15


def _log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def _needed(app, teacher) -> int | float | None:
    with app.app_context():
        today = local_today()
        return practice_needed([(teacher.id, teacher.institution_id)], today)[
            teacher.id
        ]


def test_offer_to_credited_days(app, live_server, page, tmp_path):
    w = add_market(app, build_two_colleges(app))
    teacher = w["teacher1"]
    before = _needed(app, teacher)
    assert before == 180  # short of every day
    report = tmp_path / "实践总结.pdf"
    report.write_bytes(PDF)
    with app.app_context():
        today = local_today()
    # A placement that has just ended, so its days count today.
    start = today - timedelta(days=today.weekday() + 28)
    end = start + timedelta(days=25)

    _log_in(page, live_server, "staff1")
    page.goto(f"{live_server}/placements/offers/new")
    page.select_option("#enterprise_id", str(w["enterprise"].id))
    page.fill("#post", POST)
    page.fill("#scene", "手机屏幕产线")
    page.fill("#sector", "信息技术")
    page.fill("#skills", "机器视觉, 标定")
    page.select_option("#mentor_id", str(w["mentor1"].id))
    page.fill("#seats", "2")
    page.fill("#starts_on", start.isoformat())
    page.fill("#ends_on", end.isoformat())
    page.fill("#working_days", "20")
    page.fill("#bring_back", "缺陷检测案例进课堂")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    with app.app_context():
        offer = db.session.scalar(
            select(PlacementOffer).where(PlacementOffer.post == POST)
        )
        assert offer is not None
        offer_id = offer.id
    assert f"/placements/offers/{offer_id}" in page.url

    _log_in(page, live_server, "head1")
    page.goto(f"{live_server}/placements/offers/{offer_id}")
    row = page.locator("#teachers tr[data-teacher=teacher1]")
    assert "180" in row.inner_text()  # the days still needed, beside the teacher
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()

    _log_in(page, live_server, "mentor1")
    page.goto(f"{live_server}/placements/offers/{offer_id}")
    page.locator(
        "#requests tr[data-teacher=teacher1] form[action$='/confirm'] button"
    ).click()
    page.wait_for_load_state()
    with app.app_context():
        request = db.session.scalar(
            select(PlacementRequest).where(PlacementRequest.offer_id == offer_id)
        )
        assert request.status == "confirmed"
        placement_id = request.placement_id
    page.goto(f"{live_server}/placements/{placement_id}")
    page.locator("form[action$='/attendance'] button").click()
    page.wait_for_load_state()
    assert page.locator("#attendance-count").inner_text() == "20"  # the weekdays
    page.goto(f"{live_server}/placements/{placement_id}/assessment")
    for field, score in (("attendance_score", "优"), ("task_score", "良"),
                         ("skill_score", "优"), ("attitude_score", "优")):  # fmt: skip
        page.fill(f"#{field}", score)
    page.fill("#confirmed_days", str(CONFIRMED))
    page.fill("#comments", "认真负责，完成检测算法调优。")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#confirmed-days").inner_text() == str(CONFIRMED)

    _log_in(page, live_server, "head1")
    page.goto(f"{live_server}/placements/{placement_id}")
    page.locator("form[action$='/start'] button").click()
    page.wait_for_load_state()
    page.set_input_files("#report", str(report))
    page.locator("form[action$='/complete'] button[type=submit]").click()
    page.wait_for_load_state()
    with app.app_context():
        assert db.session.get(Placement, placement_id).status == "completed"
    assert _needed(app, teacher) == before - CONFIRMED

    page.goto(f"{live_server}/placements/{placement_id}/assessment/print")
    assert "企业实践考核表" in page.content()
