"""A built feed survives a real CalDAV server (Radicale) and comes back intact.

See docs/calendar-feeds.md V3.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.interop.pyparsers import fmt
from tests.interop.radicale import stored_calendar

from .conftest import LECTURE_DESCRIPTION, LECTURE_SUMMARY, expected_events, uid

pytestmark = pytest.mark.interop
caldav = pytest.importorskip("caldav", reason="caldav is not installed")


@pytest.fixture
def stored(radicale_server: str, feed: bytes):
    """The reference feed PUT as one collection; yields the caldav Calendar."""
    yield from stored_calendar(radicale_server, "teacher", "feed", feed)


def test_events_come_back_with_same_uids_starts_and_text(stored, entries) -> None:
    components = [obj.icalendar_component for obj in stored.events()]
    by_uid = {str(c["UID"]): c for c in components}
    assert sorted(by_uid) == sorted(e.uid for e in entries)
    for entry in entries:
        comp = by_uid[entry.uid]
        assert str(comp["SUMMARY"]) == entry.summary
        assert comp.start == entry.start
        assert comp.end == entry.end
        assert str(comp.get("STATUS")) == entry.status
    lecture = by_uid[uid("event", 1)]
    assert str(lecture["SUMMARY"]) == LECTURE_SUMMARY
    assert str(lecture["DESCRIPTION"]) == LECTURE_DESCRIPTION
    assert lecture.categories == ["讲座", "AI, 教学"]


def test_calendar_name_becomes_the_display_name(stored) -> None:
    assert stored.get_display_name() == "张老师的教师发展活动"


def test_server_side_expansion_matches_the_other_parsers(stored) -> None:
    found = stored.search(
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2027, 1, 1, tzinfo=UTC),
        event=True,
        expand=True,
    )
    seen = sorted(
        (str(obj.icalendar_component["UID"]), fmt(obj.icalendar_component.start))
        for obj in found
    )
    expected = sorted((e["uid"], e["start_utc"]) for e in expected_events())
    assert seen == expected
