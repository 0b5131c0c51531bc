"""Structure of built feeds: calendar properties, VTIMEZONE, events (docs/calendar-feeds.md V1)."""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
import recurring_ical_events
from icalendar import Calendar

from pdtracker.calendar import ics
from pdtracker.calendar.ics import CalendarEntry, build_calendar, feed_uid

from .conftest import (
    FEED_NAME,
    LECTURE_DESCRIPTION,
    LECTURE_LOCATION,
    LECTURE_SUMMARY,
    SH,
    UPDATED,
    uid,
)
from .test_ics_bytes import logical_lines

BERLIN = ZoneInfo("Europe/Berlin")


def lines_of(data: bytes) -> list[str]:
    return logical_lines(data)


def vevent_lines(data: bytes, event_uid: str) -> list[str]:
    """The logical lines of the VEVENT with this UID."""
    blocks = "\r\n".join(lines_of(data)).split("BEGIN:VEVENT\r\n")[1:]
    for block in blocks:
        body = block.split("\r\nEND:VEVENT")[0].split("\r\n")
        if f"UID:{event_uid}" in body:
            return body
    raise AssertionError(f"no VEVENT {event_uid}")


def timed(**kw) -> CalendarEntry:
    """A valid timed entry; keywords override."""
    base = {
        "uid": "event-99@pdtracker.example.edu.cn",
        "summary": "讲座",
        "start": datetime(2026, 3, 11, 9, 0, tzinfo=SH),
        "end": datetime(2026, 3, 11, 10, 0, tzinfo=SH),
        "updated_at": UPDATED,
    }
    return CalendarEntry(**{**base, **kw})


def all_day(**kw) -> CalendarEntry:
    """A valid all-day entry; keywords override."""
    base = {
        "uid": "event-98@pdtracker.example.edu.cn",
        "summary": "大会",
        "start": date(2026, 4, 20),
        "end": date(2026, 4, 23),
        "all_day": True,
        "updated_at": UPDATED,
    }
    return CalendarEntry(**{**base, **kw})


# --- VCALENDAR ---------------------------------------------------------------


def test_calendar_properties(feed: bytes) -> None:
    head = lines_of(feed)[: lines_of(feed).index("BEGIN:VTIMEZONE")]
    assert head == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//pdtracker//pdtracker//ZH",
        "CALSCALE:GREGORIAN",
        "DESCRIPTION:双师型教师发展活动",
        "X-WR-CALDESC:双师型教师发展活动",
        f"NAME:{FEED_NAME}",
        f"X-WR-CALNAME:{FEED_NAME}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",  # F14: VALUE is required
        "X-PUBLISHED-TTL:PT6H",
    ]


def test_no_method_organizer_or_attendee(feed: bytes) -> None:
    # F15: a subscription feed is not an iTIP message
    for line in lines_of(feed):
        assert not line.startswith(("METHOD", "ORGANIZER", "ATTENDEE")), line


def test_calendar_has_no_random_uid_or_timestamp(feed: bytes) -> None:
    cal = Calendar.from_ical(feed)
    assert "UID" not in cal
    assert "DTSTAMP" not in cal


@pytest.mark.parametrize(
    ("refresh", "value"),
    [(timedelta(hours=1), "PT1H"), (timedelta(days=1), "P1D"), (timedelta(minutes=90), "PT1H30M")],
)  # fmt: skip
def test_refresh_interval(refresh: timedelta, value: str) -> None:
    data = build_calendar([], name="x", refresh=refresh)
    assert f"REFRESH-INTERVAL;VALUE=DURATION:{value}" in lines_of(data)
    assert f"X-PUBLISHED-TTL:{value}" in lines_of(data)
    assert Calendar.from_ical(data)["REFRESH-INTERVAL"].dt == refresh


def test_description_is_optional_and_prodid_configurable() -> None:
    data = build_calendar([timed()], name="公开活动", prodid="-//x//y//EN")
    head = lines_of(data)
    assert "PRODID:-//x//y//EN" in head
    assert not any(line.startswith(("DESCRIPTION", "X-WR-CALDESC")) for line in head)


# --- VTIMEZONE ---------------------------------------------------------------


def test_one_minimal_vtimezone_before_the_events(feed: bytes) -> None:
    lines = lines_of(feed)
    assert lines.count("BEGIN:VTIMEZONE") == 1
    assert lines.index("END:VTIMEZONE") < lines.index("BEGIN:VEVENT")
    start = lines.index("BEGIN:VTIMEZONE")
    block = lines[start : lines.index("END:VTIMEZONE") + 1]
    assert block == [
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Shanghai",
        "BEGIN:STANDARD",
        "DTSTART:20000101T000000",
        "TZNAME:CST",
        "TZOFFSETFROM:+0800",
        "TZOFFSETTO:+0800",
        "END:STANDARD",
        "END:VTIMEZONE",
    ]  # F8: no COMMENT, no RDATE history


def test_every_tzid_has_a_vtimezone() -> None:
    entries = [
        timed(),
        timed(
            uid="event-2@x",
            tzid="Europe/Berlin",
            start=datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN),
            end=datetime(2026, 7, 1, 10, 0, tzinfo=BERLIN),
        ),
        timed(uid="event-3@x"),
    ]
    data = build_calendar(entries, name="x")
    lines = lines_of(data)
    used = {m for line in lines for m in re.findall(r";TZID=([^:;]+)", line)}
    defined = [line[5:] for line in lines if line.startswith("TZID:")]
    assert sorted(defined) == sorted(used) == ["Asia/Shanghai", "Europe/Berlin"]
    cal = Calendar.from_ical(data)
    berlin = cal.walk("VEVENT")[1]
    assert berlin.start == datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN)
    assert "DAYLIGHT" in {c.name for c in cal.walk("VTIMEZONE")[1].subcomponents}


def test_all_day_only_feed_needs_no_vtimezone() -> None:
    lines = lines_of(build_calendar([all_day()], name="x"))
    assert "BEGIN:VTIMEZONE" not in lines


def test_utc_zone_is_written_with_z_and_no_vtimezone() -> None:
    entry = timed(tzid="UTC")
    lines = lines_of(build_calendar([entry], name="x"))
    assert "DTSTART:20260311T010000Z" in lines
    assert "DTEND:20260311T020000Z" in lines
    assert "BEGIN:VTIMEZONE" not in lines


# --- VEVENT ------------------------------------------------------------------


def test_timed_event_lines(feed: bytes) -> None:
    body = vevent_lines(feed, uid("event", 1))
    assert body[:6] == [
        "SUMMARY:讲座：人工智能与教学设计，第1讲；主讲人 王教授\\, AI\\; C:\\\\课件 🎓",
        "DTSTART;TZID=Asia/Shanghai:20260311T090000",
        "DTEND;TZID=Asia/Shanghai:20260311T110000",
        "DTSTAMP:20260201T023015Z",  # F2: updated_at in UTC, not "now"
        "UID:event-1@pdtracker.example.edu.cn",
        "SEQUENCE:2",
    ]
    assert "LAST-MODIFIED:20260201T023015Z" in body
    assert "CATEGORIES:讲座,AI\\, 教学" in body  # F13: list, escaped comma inside
    assert "STATUS:CONFIRMED" in body
    assert "TRANSP:OPAQUE" in body
    assert "URL:https://pd.example.edu.cn/events/1" in body


def test_utc_input_is_written_in_the_entry_zone(feed: bytes) -> None:
    body = vevent_lines(feed, uid("event", 6))
    assert "DTSTART;TZID=Asia/Shanghai:20260305T140000" in body
    assert "DTEND;TZID=Asia/Shanghai:20260305T160000" in body


def test_all_day_end_is_exclusive(feed: bytes) -> None:
    body = vevent_lines(feed, uid("event", 2))
    assert "DTSTART;VALUE=DATE:20260420" in body
    assert "DTEND;VALUE=DATE:20260423" in body
    assert "TRANSP:TRANSPARENT" in body
    cal = Calendar.from_ical(feed)
    on = {str(e["UID"]) for e in recurring_ical_events.of(cal).at(date(2026, 4, 22))}
    off = {str(e["UID"]) for e in recurring_ical_events.of(cal).at(date(2026, 4, 23))}
    assert uid("event", 2) in on
    assert uid("event", 2) not in off


def test_placement_span_covers_four_weeks(feed: bytes) -> None:
    cal = Calendar.from_ical(feed)
    days = [date(2026, 5, 4) + timedelta(days=i) for i in range(27)]
    covered = [
        d
        for d in days
        if uid("placement", 3)
        in {str(e["UID"]) for e in recurring_ical_events.of(cal).at(d)}
    ]
    assert covered == days[:26]


def test_rrule_until_is_utc_and_exdate_uses_dtstart_tzid(feed: bytes) -> None:
    body = vevent_lines(feed, uid("placement", 4))
    # local UNTIL 17:00 Asia/Shanghai becomes 09:00Z (F10)
    assert "RRULE:FREQ=WEEKLY;UNTIL=20260626T090000Z;BYDAY=MO,TU,WE,TH,FR" in body
    assert "EXDATE;TZID=Asia/Shanghai:20260619T090000" in body
    seminar = vevent_lines(feed, uid("event", 5))
    assert "EXDATE;TZID=Asia/Shanghai:20260317T140000" in seminar  # given in UTC


def test_all_day_rrule_keeps_date_until_and_date_exdate(feed: bytes) -> None:
    body = vevent_lines(feed, uid("event", 7))
    assert "RRULE:FREQ=WEEKLY;UNTIL=20260424;BYDAY=FR" in body
    assert "EXDATE;VALUE=DATE:20260410" in body
    assert "STATUS:TENTATIVE" in body


def test_exdates_are_sorted_and_deduplicated() -> None:
    days = [datetime(2026, 3, d, 9, 0, tzinfo=SH) for d in (25, 18, 25)]
    entry = timed(rrule="FREQ=WEEKLY;COUNT=5", exdates=tuple(days))
    body = vevent_lines(build_calendar([entry], name="x"), entry.uid)
    assert "EXDATE;TZID=Asia/Shanghai:20260318T090000,20260325T090000" in body


def test_cancelled_event(feed: bytes) -> None:
    body = vevent_lines(feed, uid("event", 6))
    assert "STATUS:CANCELLED" in body  # F4: two Ls
    assert "SEQUENCE:1" in body
    assert "DTSTAMP:20260204T023015Z" in body


def test_text_round_trips_exactly(feed: bytes) -> None:
    event = next(
        e
        for e in Calendar.from_ical(feed).walk("VEVENT")
        if e["UID"] == uid("event", 1)
    )
    assert str(event["SUMMARY"]) == LECTURE_SUMMARY
    assert str(event["DESCRIPTION"]) == LECTURE_DESCRIPTION
    assert str(event["LOCATION"]) == LECTURE_LOCATION
    assert event.categories == ["讲座", "AI, 教学"]
    stamp = event["DTSTAMP"].dt
    assert stamp == UPDATED.astimezone(UTC)
    assert event.last_modified == UPDATED.astimezone(UTC)
    assert event.sequence == 2


def test_control_characters_are_dropped_and_newlines_escaped() -> None:
    entry = timed(summary="a\x00b\x0bc\x1bd\te", description="一\r\n二\r三\n四")
    body = vevent_lines(build_calendar([entry], name="x"), entry.uid)
    assert "SUMMARY:abcd\te" in body
    assert "DESCRIPTION:一\\n二\\n三\\n四" in body


def test_zero_length_timed_event_has_no_dtend() -> None:
    moment = datetime(2026, 3, 11, 9, 0, tzinfo=SH)
    entry = timed(start=moment, end=moment)
    body = vevent_lines(build_calendar([entry], name="x"), entry.uid)
    assert not any(line.startswith("DTEND") for line in body)


def test_optional_properties_are_omitted() -> None:
    body = vevent_lines(build_calendar([timed()], name="x"), timed().uid)
    names = {line.split(":")[0].split(";")[0] for line in body}
    assert names == {
        "SUMMARY", "DTSTART", "DTEND", "DTSTAMP", "UID", "SEQUENCE",
        "LAST-MODIFIED", "STATUS", "TRANSP",
    }  # fmt: skip


def test_vevent_cache_is_keyed_on_all_fields() -> None:
    first = build_calendar([timed()], name="x")
    changed = build_calendar([timed(sequence=1)], name="x")
    assert first != changed
    assert "SEQUENCE:1" in vevent_lines(changed, timed().uid)


# --- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kw", "message"),
    [
        (timed, {"start": datetime(2026, 3, 11, 9, 0)}, "aware"),
        (timed, {"end": datetime(2026, 3, 11, 8, 0, tzinfo=SH)}, "precede"),
        (timed, {"updated_at": datetime(2026, 1, 1)}, "updated_at"),
        (timed, {"status": "CANCELED"}, "status"),
        (timed, {"sequence": -1}, "sequence"),
        (timed, {"uid": ""}, "uid"),
        (timed, {"uid": "a\r\nb"}, "uid"),
        (timed, {"url": "https://x/\r\nX-EVIL:1"}, "url"),
        (timed, {"exdates": (datetime(2026, 3, 18, 9, 0, tzinfo=SH),)}, "rrule"),
        (timed, {"rrule": "FREQ=WEEKLY;COUNT=3;UNTIL=20260401T000000Z"}, "COUNT"),
        (timed, {"rrule": "FREQ=WEEKLY;UNTIL=20260401"}, "date-time"),
        (timed, {"rrule": "BYDAY=MO"}, "FREQ"),
        (timed, {"rrule": "FREQ=WEEKLY", "exdates": (date(2026, 3, 18),)}, "exdates"),
        (all_day, {"start": datetime(2026, 4, 20, tzinfo=SH)}, "dates"),
        (all_day, {"end": date(2026, 4, 20)}, "exclusive"),
        (all_day, {"rrule": "FREQ=WEEKLY;UNTIL=20260601T000000Z"}, "date"),
    ],
)
def test_invalid_entries_are_rejected(make, kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**kw)


def test_unknown_tzid_is_rejected() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        timed(tzid="Asia/Beijing")


def test_invalid_rrule_is_rejected() -> None:
    with pytest.raises(ValueError, match="rrule"):
        timed(rrule="FREQ=SOMETIMES")


def test_duplicate_uid_is_left_out_and_logged(caplog) -> None:
    # A feed never fails on data (issue 10, finding 2): the first entry is kept.
    with caplog.at_level(logging.WARNING, logger="pdtracker.calendar.ics"):
        body = build_calendar([timed(), timed(summary="另一个")], name="x")
    events = Calendar.from_ical(body).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["讲座"]
    assert "duplicate UID in feed left out: event-99@" in caplog.text


def test_list_fields_become_tuples() -> None:
    entry = timed(
        categories=["讲座"],
        rrule="FREQ=DAILY;COUNT=3",
        exdates=[datetime(2026, 3, 12, 9, 0, tzinfo=SH)],
    )
    assert entry.categories == ("讲座",)
    assert isinstance(entry.exdates, tuple)
    assert hash(entry) == hash(dataclasses.replace(entry))


def test_refresh_must_be_positive() -> None:
    with pytest.raises(ValueError, match="refresh"):
        build_calendar([], name="x", refresh=timedelta(0))


def test_entries_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        timed().summary = "x"  # type: ignore[misc]


# --- UIDs --------------------------------------------------------------------


def test_feed_uid_pattern() -> None:
    assert (
        feed_uid("event", 42, "example.edu.cn") == "event-42@pdtracker.example.edu.cn"
    )
    assert feed_uid("placement", 7, "Example.EDU.cn.") == (
        "placement-7@pdtracker.example.edu.cn"
    )
    assert feed_uid("event", 42, "example.edu.cn") == feed_uid(
        "event", 42, "example.edu.cn"
    )


@pytest.mark.parametrize(
    ("kind", "pk", "domain"),
    [
        ("Event", 1, "x.cn"),
        ("event 1", 1, "x.cn"),
        ("event", -1, "x.cn"),
        ("event", True, "x.cn"),
        ("event", "1", "x.cn"),
        ("event", 1, "x.cn/evil"),
        ("event", 1, "x.cn:8080"),
        ("event", 1, ""),
    ],
)
def test_feed_uid_rejects_bad_input(kind: str, pk: object, domain: str) -> None:
    with pytest.raises(ValueError, match="^(kind|pk|domain) must"):
        feed_uid(kind, pk, domain)  # type: ignore[arg-type]


def test_reference_feed_uids_are_unique_and_stable(feed: bytes) -> None:
    uids = [line[4:] for line in lines_of(feed) if line.startswith("UID:")]
    assert len(uids) == len(set(uids)) == 7
    assert all(re.fullmatch(r"[a-z]+-\d+@pdtracker\.example\.edu\.cn", u) for u in uids)


# --- purity ------------------------------------------------------------------


def test_builder_imports_only_stdlib_and_icalendar() -> None:
    tree = ast.parse(Path(ics.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    third_party = {r for r in roots if r not in sys.stdlib_module_names}
    assert third_party <= {"icalendar", "__future__"}, third_party
