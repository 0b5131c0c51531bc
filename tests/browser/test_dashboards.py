"""The teacher and department dashboards in a real browser show the engine's numbers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.progress import facts as services
from pdtracker.progress.engine import evaluate
from pdtracker.progress.rulebook import load_builtin
from pdtracker.progress.views import percent
from tests.progress.test_services import add_placement

pytestmark = pytest.mark.browser


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "pdtracker-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def seeded(app, world, make_activity):
    """teacher1 qualified; teacher2 short of practice with a placement planned."""
    with app.app_context():
        today = services.local_today()
    for key in ("teacher1", "teacher2"):
        make_activity(
            world[key], kind_code="training", starts_on=today - timedelta(days=90),
            ends_on=today - timedelta(days=86), hours=Decimal("360"), status="verified",
        )  # fmt: skip
    make_activity(
        world["teacher1"], kind_code="enterprise_placement",
        starts_on=today - timedelta(days=500), ends_on=today - timedelta(days=321),
        days=180, status="verified",
    )  # fmt: skip
    make_activity(
        world["teacher2"], kind_code="enterprise_placement",
        starts_on=today - timedelta(days=300), ends_on=today - timedelta(days=201),
        days=100, status="verified",
    )  # fmt: skip
    add_placement(
        app, world["teacher2"], today + timedelta(days=20), today + timedelta(days=99),
        "approved",
    )  # fmt: skip
    return world


def test_teacher_dashboard_matches_the_engine(app, live_server, page, seeded) -> None:
    with app.app_context():
        user = db.session.get(User, seeded["teacher2"].id)
        facts = services.facts_for_teachers([user.id])[user.id]
        today = services.local_today()
    report = evaluate(load_builtin(), facts, today)
    practice = report.requirement("enterprise_practice")
    _login(page, live_server, "teacher2")
    page.goto(f"{live_server}/progress/")
    item = page.locator('[data-requirement="enterprise_practice"]')
    assert item.get_attribute("data-credited") == str(practice.credited)
    missing = item.locator(".missing").inner_text()
    assert practice.missing == 80
    assert "80" in missing
    assert "企业实践" in missing
    assert item.locator(".credited").inner_text().startswith(str(practice.credited))
    assert item.locator('[role="progressbar"]').get_attribute("aria-valuenow") == str(
        practice.credited
    )
    forecast = page.locator("#forecast").get_attribute("data-forecast")
    assert forecast == (today + timedelta(days=99)).isoformat()
    assert page.locator("#planned").inner_text().count("华为技术有限公司") == 1


def test_department_dashboard_matches_the_engine(
    app, live_server, page, seeded
) -> None:
    with app.app_context():
        ids = [seeded[k].id for k in ("teacher1", "teacher2", "head1")]
        facts = services.facts_for_teachers(ids)
        today = services.local_today()
    ruleset = load_builtin()
    levels = {i: evaluate(ruleset, facts.get(i, []), today).level for i in ids}
    qualified = sum(level is not None for level in levels.values())
    _login(page, live_server, "head1")
    page.goto(f"{live_server}/progress/department")
    ratio = page.locator("#ratio-now")
    assert ratio.get_attribute("data-qualified") == str(qualified)
    assert ratio.get_attribute("data-total") == "3"
    assert ratio.inner_text() == percent(qualified / 3)
    for teacher_id, level in levels.items():
        row = page.locator(f'#teachers tr[data-teacher="{teacher_id}"]')
        assert row.get_attribute("data-level") == (level or "")
    # teacher2's placement ends within 6 months: the forecast counts it.
    assert page.locator("#forecast-6").get_attribute("data-qualified") == str(
        qualified + 1
    )
    assert page.locator("#ratio-chart").is_visible()
    with page.expect_download() as download:
        page.locator('a[href*="department.csv"]').click()
    assert download.value.suggested_filename.endswith(".csv")
