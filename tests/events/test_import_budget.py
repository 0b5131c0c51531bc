"""One time budget covers a whole calendar import (issue 10, finding 3).

Recurrence checks after the parser's first count were unbounded: 100 crafted RRULEs
took 35 s and 400 got the web worker killed. Now every import (file or URL; web, CLI,
scheduler) runs under one deadline (IMPORT_TIME_BUDGET seconds), checked inside every
loop that expands or checks recurrences; past it nothing is stored and the import
reports ``too_slow``.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from pdtracker.events.models import Event, ImportSource
from pdtracker.extensions import db
from tests.events.test_importing import calendar, vevent

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BUDGET = 0.3  # seconds; the file below needs well over ten seconds unbounded
# A Monday 29 February comes every 28 years: each rule passes the parser's 3-year
# count quickly, but counting its 1000 occurrences scans centuries day by day
# (about 0.4 s per count, and an import counts each rule more than once).
EXPENSIVE = "FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
HOSTILE = calendar(
    *(
        vevent(f"slow-{n}@hostile.example", f"讲座 {n}", RRULE=EXPENSIVE)
        for n in range(20)
    )
).encode()


@pytest.fixture(autouse=True)
def small_budget(app):
    """A budget the hostile file exceeds on any machine."""
    app.config["IMPORT_TIME_BUDGET"] = BUDGET


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def test_web_upload_over_budget_stores_nothing(app, client, auth, world) -> None:
    from pdtracker.auth.models import User

    with app.app_context():
        db.session.get(User, world["staff1"].id).locale = "en"
        db.session.commit()
    auth.login("staff1")
    response = client.post(
        "/events/import",
        data={"file": (io.BytesIO(HOSTILE), "hostile.ics"), "url": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert 'id="import-report"' in response.text
    assert "took too long to process" in response.text  # too_slow, in words
    assert _stored(app) == 0


def test_cli_over_budget_stores_nothing(app, runner, tmp_path) -> None:
    path = tmp_path / "hostile.ics"
    path.write_bytes(HOSTILE)
    result = runner.invoke(args=["events", "import", str(path), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["error"] == "too_slow"
    assert report["created"] == 0
    assert _stored(app) == 0


def test_scheduler_refresh_over_budget_stores_nothing(app, httpserver) -> None:
    from pdtracker.notifications.feeds import refresh_feeds

    httpserver.expect_request("/hostile.ics").respond_with_data(
        HOSTILE, content_type="text/calendar"
    )
    url = httpserver.url_for("/hostile.ics")
    with app.app_context():
        db.session.add(ImportSource(kind="url", url=url, allow_private=True))
        db.session.commit()
        counts = refresh_feeds(NOW)
        source = db.session.scalars(select(ImportSource)).one()
        assert "too_slow" in (source.last_error or "")
    assert counts["failed"] == 1
    assert _stored(app) == 0


def test_a_normal_file_fits_the_default_budget(app, runner, tmp_path) -> None:
    app.config.pop("IMPORT_TIME_BUDGET")
    path = tmp_path / "ok.ics"
    path.write_bytes(
        calendar(
            *(
                vevent(f"ok-{n}@x", "月度研讨", RRULE="FREQ=MONTHLY;COUNT=12")
                for n in range(50)
            )
        ).encode()
    )
    result = runner.invoke(args=["events", "import", str(path), "--json"])
    assert json.loads(result.output)["created"] == 50


def test_a_fetch_that_uses_up_the_budget_is_too_slow(app, httpserver) -> None:
    """The fetch shares the budget: a server slower than it makes the import too slow."""
    from werkzeug.wrappers import Response

    from pdtracker.events.importing import import_url

    def slow(_request: object) -> Response:
        threading.Event().wait(BUDGET * 3)
        return Response(calendar(vevent("a@x", "讲座")), content_type="text/calendar")

    httpserver.expect_request("/slow.ics").respond_with_handler(slow)
    with app.app_context():
        report = import_url(
            httpserver.url_for("/slow.ics"), None, NOW, allow_private=True
        )
        assert report.error == "too_slow"
        db.session.rollback()
    assert _stored(app) == 0
