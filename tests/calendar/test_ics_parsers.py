"""Cross-parser agreement on built feeds, and proof that each checker bites (V2).

Rule ids are those of docs/calendar-feeds.md.

Six independent readers must see exactly the same events in the reference feed:
icalendar + recurring-ical-events, allenporter ``ical`` (strict), vobject
(validate=True), libical 3 (zero X-LIC-ERROR), ical.js (Thunderbird; zero problems)
and node-ical. The negative fixtures show the same harness reports real defects.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from icalendar import Calendar, Timezone

from .conftest import DATA, PARSERS, WINDOW, expected_events, make_entries

pytestmark = pytest.mark.interop


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize("name", PARSERS)
def test_parser_sees_exactly_the_reference_events(
    parsers, feed: bytes, name: str
) -> None:
    result = parsers(name)(feed, WINDOW)
    assert result.problems == []
    assert result.events == expected_events()


@pytest.mark.parametrize("name", PARSERS)
def test_weekday_placement_has_nineteen_days(parsers, feed: bytes, name: str) -> None:
    # F6, F10: 20 weekdays in June minus the Dragon Boat holiday EXDATE
    events = parsers(name)(feed, WINDOW).events
    placement = [e for e in events if e["uid"].startswith("placement-4@")]
    assert len(placement) == 19
    assert "2026-06-19T01:00:00Z" not in {e["start_utc"] for e in placement}


@pytest.mark.parametrize("name", PARSERS)
def test_empty_feed_parses_cleanly(parsers, name: str) -> None:
    from pdtracker.calendar.ics import build_calendar

    result = parsers(name)(build_calendar([], name="空日历"), WINDOW)
    assert result.problems == []
    assert result.events == []


@pytest.mark.parametrize("name", PARSERS)
def test_big_feed_agrees(parsers, name: str) -> None:
    # One larger feed (30 copies of the reference entries = 210 rows) per parser.
    import dataclasses

    from pdtracker.calendar.ics import build_calendar

    entries = [
        dataclasses.replace(e, uid=e.uid.replace("@", f"-{n}@"))
        for n in range(30)
        for e in make_entries()
    ]
    result = parsers(name)(build_calendar(entries, name="协会"), WINDOW)
    assert result.problems == []
    assert len(result.events) == 30 * len(expected_events())


def test_parsers_agree_with_each_other_on_the_sample_good_feed(parsers) -> None:
    # An independent file (not ours): all readers still agree on it.
    data = sample("good-feed.ics")
    results = {name: parsers(name)(data, WINDOW).events for name in PARSERS}
    reference = results.pop("icaljs")
    assert len(reference) == 4
    for name, events in results.items():
        assert events == reference, name


# --- the harness bites -----------------------------------------------------------


def test_icaljs_flags_tzid_without_vtimezone(parsers) -> None:
    problems = parsers("icaljs")(
        sample("bad-tzid-without-vtimezone.ics"), WINDOW
    ).problems
    assert any("TZID Asia/Shanghai has no VTIMEZONE -> floating" in p for p in problems)


@pytest.mark.parametrize("name", ["icalendar", "ical_strict", "vobject", "nodeical"])
def test_tolerant_parsers_miss_the_missing_vtimezone(parsers, name: str) -> None:
    # Why ical.js is in the harness at all (F7): the others resolve the IANA name.
    assert (
        parsers(name)(sample("bad-tzid-without-vtimezone.ics"), WINDOW).problems == []
    )


def test_our_feed_without_vtimezone_is_flagged(parsers, feed: bytes) -> None:
    stripped = re.sub(
        rb"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", b"", feed, flags=re.S
    )
    problems = parsers("icaljs")(stripped, WINDOW).problems
    assert any("no VTIMEZONE" in p for p in problems)


def test_libical_flags_several_errors(parsers) -> None:
    problems = parsers("libical")(sample("bad-several-errors.ics"), WINDOW).problems
    assert any(p.startswith("Can't parse as RECUR value in RRULE") for p in problems)
    assert any(
        p.startswith("Can't parse as DATE-TIME value in DTSTART") for p in problems
    )


def test_icaljs_flags_several_errors(parsers) -> None:
    problems = parsers("icaljs")(sample("bad-several-errors.ics"), WINDOW).problems
    for needle in (
        "missing UID",
        "missing DTSTAMP",
        "floating DTSTART",
        "STATUS BOGUS",
        "COUNT and UNTIL",
        "invalid date-time value",
    ):
        assert any(needle in p for p in problems), needle


def test_strict_python_parsers_reject_several_errors(parsers) -> None:
    data = sample("bad-several-errors.ics")
    assert "status" in " ".join(parsers("ical_strict")(data, WINDOW).problems)
    assert "DTSTAMP" in " ".join(parsers("vobject")(data, WINDOW).problems)
    assert "DTSTART" in " ".join(parsers("icalendar")(data, WINDOW).problems)


def test_libical_flags_method_without_organizer(parsers) -> None:
    # F15: METHOD makes the file an iTIP message, which needs ORGANIZER.
    problems = parsers("libical")(sample("good-feed.ics"), WINDOW).problems
    assert any("ORGANIZER" in p for p in problems)


def test_libical_flags_a_vtimezone_comment(parsers, feed: bytes) -> None:
    # F8: icalendar's default VTIMEZONE carries a COMMENT libical rejects.
    tz = Timezone.from_tzinfo(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert "COMMENT" in tz
    cal = Calendar.from_ical(feed)
    cal.subcomponents[0] = tz
    problems = parsers("libical")(cal.to_ical(), WINDOW).problems
    assert any("COMMENT" in p for p in problems)


def test_icaljs_flags_untyped_refresh_interval(parsers, feed: bytes) -> None:
    # F14: icalendar's Calendar.new(refresh_interval=) writes it without VALUE.
    data = feed.replace(b"REFRESH-INTERVAL;VALUE=DURATION:", b"REFRESH-INTERVAL:")
    problems = parsers("icaljs")(data, WINDOW).problems
    assert problems == ["VCALENDAR: REFRESH-INTERVAL has value type unknown"]


def test_duplicate_uid_is_flagged(parsers, feed: bytes) -> None:
    data = feed.replace(b"UID:event-2@", b"UID:event-1@")
    problems = parsers("icaljs")(data, WINDOW).problems
    assert any("duplicate UID" in p for p in problems)


def test_missing_dtstamp_is_flagged(parsers, feed: bytes) -> None:
    data = re.sub(rb"DTSTAMP:[0-9TZ]+\r\n", b"", feed, count=1)
    assert any("missing DTSTAMP" in p for p in parsers("icaljs")(data, WINDOW).problems)
    assert any("DTSTAMP" in p for p in parsers("vobject")(data, WINDOW).problems)


def test_misspelled_status_is_flagged(parsers, feed: bytes) -> None:
    data = feed.replace(b"STATUS:CANCELLED", b"STATUS:CANCELED")
    assert any("CANCELED" in p for p in parsers("icaljs")(data, WINDOW).problems)
    assert parsers("ical_strict")(data, WINDOW).problems


def test_wrong_exdate_zone_changes_what_clients_see(parsers, feed: bytes) -> None:
    # F10: an EXDATE in another zone than DTSTART no longer removes the holiday.
    data = feed.replace(
        b"EXDATE;TZID=Asia/Shanghai:20260619T090000",
        b"EXDATE:20260619T090000Z",
    )
    events = parsers("icaljs")(data, WINDOW)
    assert "EXDATE TZID differs from DTSTART TZID" in " ".join(events.problems)
    placement = [e for e in events.events if e["uid"].startswith("placement-4@")]
    assert len(placement) == 20


def test_samples_are_the_shared_ones() -> None:
    # tests/calendar/data holds copies of shared/samples; keep them byte-identical.
    shared = Path(__file__).resolve().parents[3] / "shared" / "samples"
    if not shared.is_dir():
        pytest.skip("shared/samples is not beside the repository")
    for path in DATA.glob("*.ics"):
        assert path.read_bytes() == (shared / path.name).read_bytes(), path.name
