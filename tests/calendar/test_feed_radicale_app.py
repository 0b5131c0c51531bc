"""A teacher's real feed, fetched from the app, survives a CalDAV server (Radicale).

The feed is PUT into Radicale as one collection (Radicale splits it per UID), then
read back with the caldav client: every event, its start, end, status and Chinese
text; and a server-side time-range query with expansion returns the occurrences
the other parsers see.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from icalendar import Calendar

from pdtracker.timeutil import SHANGHAI, utcnow
from tests.calendar.feedkit import FeedKit, get, soon, window_dates
from tests.interop import pyparsers
from tests.interop.pyparsers import fmt
from tests.interop.radicale import stored_calendar

pytestmark = pytest.mark.interop
caldav = pytest.importorskip("caldav", reason="caldav is not installed")

SUMMARY = "讲座：新能源汽车检测技术，第2讲；主讲 李教授, AI"


@pytest.fixture
def teacher_feed(app, world) -> bytes:
    """teacher1's feed with a timed lecture, a series, a placement and a plan."""
    kit = FeedKit(app)
    t1 = world["teacher1"]
    today = utcnow().astimezone(SHANGHAI).date()
    start = soon(6, 14)
    events = [
        kit.event(title=SUMMARY, description="请携带笔记本电脑；线上同步直播。"),
        kit.event(
            kind_code="seminar", title="每周教研研讨", starts_at=start,
            ends_at=start + timedelta(hours=2), rrule="FREQ=WEEKLY;COUNT=4",
            exdates=[(start + timedelta(days=7)).astimezone(UTC).isoformat()],
        ),
        kit.event(
            kind_code="industry_conference", title="职业教育产教融合大会",
            is_all_day=True, start_on=today + timedelta(days=20),
            end_on=today + timedelta(days=23),
        ),
    ]  # fmt: skip
    for event in events:
        kit.register(t1, event)
    kit.placement(t1, kit.enterprise(), status="proposed")
    kit.activity(
        t1, title="企业调研", starts_on=today + timedelta(days=3),
        start_time=time(9), end_time=time(12),
    )  # fmt: skip
    response = get(app, kit.url(t1))
    assert response.status_code == 200
    return response.data


@pytest.fixture
def stored(radicale_server: str, teacher_feed: bytes):
    """The feed stored in Radicale; yields the caldav Calendar."""
    yield from stored_calendar(radicale_server, "teacher1", "pd-feed", teacher_feed)


def test_every_event_comes_back_intact(stored, teacher_feed: bytes) -> None:
    ours = {str(c["UID"]): c for c in Calendar.from_ical(teacher_feed).walk("VEVENT")}
    components = [o.icalendar_component for o in stored.events()]
    back = {str(c["UID"]): c for c in components}
    assert sorted(back) == sorted(ours)
    assert len(ours) == 5
    for uid, mine in ours.items():
        theirs = back[uid]
        assert str(theirs["SUMMARY"]) == str(mine["SUMMARY"])
        assert theirs.start == mine.start
        assert theirs.end == mine.end
        assert str(theirs["STATUS"]) == str(mine["STATUS"])
        assert int(theirs["SEQUENCE"]) == int(mine["SEQUENCE"])
    assert SUMMARY in {str(c["SUMMARY"]) for c in back.values()}


def test_calendar_name_is_kept(stored, teacher_feed: bytes) -> None:
    name = str(Calendar.from_ical(teacher_feed)["X-WR-CALNAME"])
    assert stored.get_display_name() == name


def test_server_side_expansion_matches_our_parsers(stored, teacher_feed: bytes) -> None:
    lo, hi = window_dates()
    found = stored.search(
        start=datetime.combine(lo, time(), UTC),
        end=datetime.combine(hi, time(), UTC),
        event=True,
        expand=True,
    )
    seen = sorted(
        (str(o.icalendar_component["UID"]), fmt(o.icalendar_component.start))
        for o in found
    )
    reference = pyparsers.parse_icalendar(teacher_feed, (lo, hi)).events
    assert seen == sorted((e["uid"], e["start_utc"]) for e in reference)
    assert len(seen) == 7  # 5 entries, the series giving 3 of its 4 weeks
