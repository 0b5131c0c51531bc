"""The path to the next level in a real browser (issue 12): a registrable event with
its credited hours, the teacher registers, and the forecast moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pdtracker.progress.facts import local_today
from tests.progress.test_services import add_event

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_register_from_the_path_and_the_forecast_moves(
    app, live_server, page, world, make_activity
) -> None:
    with app.app_context():
        today = local_today()
    teacher = world["teacher1"]
    make_activity(
        teacher, kind_code="enterprise_placement",
        starts_on=today - timedelta(days=400), ends_on=today - timedelta(days=221),
        days=180, status="verified",
    )  # fmt: skip
    make_activity(
        teacher, kind_code="training", starts_on=today - timedelta(days=90),
        ends_on=today - timedelta(days=86), hours=Decimal("350"), status="verified",
    )  # fmt: skip
    starts_at = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    starts_at += timedelta(days=10)
    event_id = add_event(app, starts_at, hours="12", title="产教融合专题讲座")
    event_day = starts_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()

    _login(page, live_server, "teacher1")
    page.goto(f"{live_server}/progress/")
    assert page.get_attribute("#forecast", "data-forecast") == ""
    offer = page.locator(
        f'#path [data-step="training_hours"] [data-event="{event_id}"]'
    )
    assert offer.get_attribute("data-credited") == "12"
    assert "12 学时" in offer.inner_text()
    assert page.get_attribute("#path", "data-reached-on") == event_day

    offer.locator("a").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="报名").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/progress/")
    assert page.get_attribute("#forecast", "data-forecast") == event_day
    step = page.locator('#path [data-step="training_hours"]')
    assert step.locator("[data-event]").count() == 0  # registered: no longer offered
