"""The feed tick: subscribed calendars re-imported; a failing one is reported to admins."""

from __future__ import annotations

from datetime import timedelta

from pytest_httpserver import HTTPServer
from sqlalchemy import select

from pdtracker.events.models import Event, ImportSource
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.feeds import refresh_feeds
from tests.notifications.conftest import NOW, rows

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//association//EN\r
BEGIN:VEVENT\r
UID:seminar-1@association.example\r
DTSTAMP:20260301T000000Z\r
DTSTART:20260320T063000Z\r
DTEND:20260320T083000Z\r
SUMMARY:产教融合研讨会\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _sources(app, httpserver: HTTPServer) -> None:
    with app.app_context():
        for path in ("/good.ics", "/broken.ics"):
            db.session.add(ImportSource(kind="url", url=httpserver.url_for(path),
                                        name=path.strip("/"), allow_private=True))  # fmt: skip
        db.session.commit()


def test_one_failing_feed_does_not_stop_the_others_and_admins_hear_once(
    app, world, httpserver: HTTPServer
):
    httpserver.expect_request("/good.ics").respond_with_data(
        ICS, content_type="text/calendar", headers={"ETag": '"v1"'}
    )
    httpserver.expect_request("/broken.ics").respond_with_data("oops", status=500)
    _sources(app, httpserver)
    with app.app_context():
        first = refresh_feeds(NOW)
        again = refresh_feeds(NOW + timedelta(hours=1))
        titles = db.session.scalars(select(Event.title)).all()
        good = db.session.scalar(select(ImportSource).filter_by(name="good.ics"))
        broken = db.session.scalar(select(ImportSource).filter_by(name="broken.ics"))
        assert (good.etag, good.last_error) == ('"v1"', None)
        assert broken.last_error
        sent = dispatch_due(NOW + timedelta(hours=1))
    assert first == {"sources": 2, "refreshed": 1, "not_modified": 0, "failed": 1}
    assert again["failed"] == 1
    assert titles == ["产教融合研讨会"]
    alerts = [r for r in rows(app) if r.kind == "feed_failed"]
    assert [r.recipient_id for r in alerts] == [world["admin"].id]  # once per day
    assert alerts[0].payload["source"] == "broken.ics"
    assert sent["sent"] == 1


def test_an_unchanged_feed_is_fetched_conditionally(app, world, httpserver):
    httpserver.expect_request(
        "/good.ics", headers={"If-None-Match": '"v1"'}
    ).respond_with_data("", status=304)
    httpserver.expect_request("/good.ics").respond_with_data(
        ICS, content_type="text/calendar", headers={"ETag": '"v1"'}
    )
    httpserver.expect_request("/broken.ics").respond_with_data(
        ICS, content_type="text/calendar"
    )
    _sources(app, httpserver)
    with app.app_context():
        refresh_feeds(NOW)
        second = refresh_feeds(NOW + timedelta(hours=1))
    assert second["not_modified"] == 1
    assert second["refreshed"] == 1
