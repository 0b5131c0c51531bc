"""Tests for the pure .ics import layer (docs/calendar-feeds.md I1–I5)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from dateutil.rrule import rrulestr
from icalendar import Calendar

from pdtracker.calendar import ics_import
from pdtracker.calendar.ics_import import (
    REASON_CODES,
    ImportLimits,
    ParseResult,
    parse_calendar,
    plan_import,
)

DATA = Path(__file__).parent / "data" / "import"


def load(name: str) -> bytes:
    """Return the raw bytes of an import fixture."""
    return (DATA / name).read_bytes()


def parse(name: str, **kwargs) -> ParseResult:
    """Parse a fixture and insist the file as a whole was accepted."""
    result = parse_calendar(load(name), **kwargs)
    assert result.error is None, result.error_detail
    return result


def by_uid(result: ParseResult) -> dict[str, ics_import.ImportedEvent]:
    """Index master events by UID."""
    return {e.uid: e for e in result.events if e.recurrence_id is None}


def reasons(result: ParseResult) -> dict[str | None, str]:
    """Map skipped UID (or summary when UID is missing) to its reason code."""
    return {s.uid or s.summary: s.reason_code for s in result.skipped}


def utc(*args: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def test_google_export_uses_x_wr_timezone() -> None:
    result = parse("google.ics")
    events = by_uid(result)
    assert result.calendar_name == "职教教师发展中心"
    assert result.skipped == []
    talk = events["4k2v9r0m1lq8s7t6u5@google.com"]
    assert talk.summary == "双师型教师专题讲座"
    assert talk.start == utc(2026, 3, 10, 6)
    assert talk.end == utc(2026, 3, 10, 8)
    assert talk.tzid == "Asia/Shanghai"
    assert talk.description == "主讲：王教授\n地点见附件, 请提前10分钟到场"
    assert talk.location == "实训楼 A301"
    week = events["7a1b2c3d4e5f@google.com"]
    assert week.all_day
    assert (week.start, week.end) == (date(2026, 3, 16), date(2026, 3, 21))
    assert week.status == "TENTATIVE"
    cancelled = events["9z8y7x6w@google.com"]
    assert cancelled.status == "CANCELLED"
    assert cancelled.start == utc(2026, 4, 2, 11)


def test_outlook_windows_zone_maps_to_shanghai() -> None:
    result = parse("outlook.ics")
    (event,) = result.events
    assert event.uid.startswith("040000008200E00074C5B7101A82E008")
    assert event.uid.endswith("F1E2D3C4B5A69788")  # folded line rejoined
    assert event.tzid == "Asia/Shanghai"
    assert event.start == utc(2026, 3, 12, 1)
    assert event.end == utc(2026, 3, 12, 3, 30)
    assert event.summary == "智能制造产业发展报告会"


def test_indico_export_five_day_conference() -> None:
    events = by_uid(parse("indico.ics"))
    conference = events["indico-event-1234@indico.example.org"]
    assert conference.start == utc(2026, 5, 11, 1)
    assert conference.end == utc(2026, 5, 15, 9)
    assert not conference.all_day
    assert conference.tzid == "UTC"
    assert conference.categories == ("会议", "职业教育")
    assert conference.url == "https://indico.example.org/event/1234/"
    assert conference.description.startswith("Speakers: 李明")
    assert "indico-contribution-1234-5678@indico.example.org" in events


def test_gb18030_file_decodes_to_chinese() -> None:
    data = load("gb18030.ics")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # guard: the fixture really is not UTF-8
    (event,) = parse("gb18030.ics").events
    assert event.summary == "学术会议：职业教育数字化转型"
    assert event.location == "行政楼三楼会议室"


@pytest.mark.parametrize(
    ("name", "summary"),
    [("bom.ics", "教学能力比赛培训"), ("lf_only.ics", "课程思政工作坊")],
)
def test_bom_and_lf_only_files(name: str, summary: str) -> None:
    (event,) = parse(name).events
    assert event.summary == summary


def test_bom_fixture_has_bom_and_lf_fixture_has_no_cr() -> None:
    assert load("bom.ics").startswith(b"\xef\xbb\xbf")
    assert b"\r" not in load("lf_only.ics")
    (event,) = parse("lf_only.ics").events
    assert event.description == "第一行\n第二行"


def test_utf16_with_bom_is_decoded() -> None:
    data = load("bom.ics")[3:].decode("utf-8").encode("utf-16")
    (event,) = parse_calendar(data).events
    assert event.summary == "教学能力比赛培训"


def test_broken_events_are_reported_not_fatal() -> None:
    result = parse("broken_dtstart.ics")
    assert set(by_uid(result)) == {"good-1@example.org", "good-2@example.org"}
    assert reasons(result) == {
        "broken-1@example.org": "bad_dtstart",
        "没有UID的活动": "missing_uid",
        "backwards-1@example.org": "end_before_start",
        "todo-1@example.org": "unsupported_component",
    }
    broken = next(s for s in result.skipped if s.uid == "broken-1@example.org")
    assert broken.summary == "日期损坏的活动"
    assert "2026031" in broken.detail
    assert all(s.reason_code in REASON_CODES for s in result.skipped)


def test_duplicate_uid_keeps_first_and_override_is_separate() -> None:
    result = parse("duplicate_uid.ics")
    keys = [e.key for e in result.events]
    assert keys == [
        ("dup-1@example.org", ""),
        ("dup-1@example.org", "2026-04-01T01:00:00+00:00"),
    ]
    assert result.events[0].summary == "第一次出现"
    assert result.events[1].recurrence_id == utc(2026, 4, 1, 1)
    (dup,) = result.skipped
    assert (dup.reason_code, dup.summary) == ("duplicate_uid", "第二次出现")


def test_rrule_and_exdate() -> None:
    result = parse("rrule_exdate.ics")
    placement = by_uid(result)["placement-7@pd.example.edu.cn"]
    assert placement.rrule == "FREQ=WEEKLY;UNTIL=20260424T090000Z;BYDAY=MO,TU,WE,TH,FR"
    assert placement.exdates == (utc(2026, 4, 6, 1), utc(2026, 5, 1, 1))
    assert placement.categories == ("企业实践",)
    assert placement.tzid == "Asia/Shanghai"
    # Expanding the stored fields in tzid gives the instances the source file means.
    source = Calendar.from_ical(load("rrule_exdate.ics"))
    # Only the placement: the file's other rules are the hostile ones the importer
    # rejects, and expanding them here would hang the test.
    source.subcomponents = [
        c for c in source.subcomponents if c.get("UID") in (None, placement.uid)
    ]
    expected = recurring_ical_events.of(source).between((2026, 4, 1), (2026, 6, 1))
    assert len(expected) == 14  # three weeks of weekdays minus 6 April
    rule = rrulestr(
        placement.rrule,
        dtstart=placement.start.astimezone(ZoneInfo(placement.tzid)),
    )
    mine = [d for d in rule if d.astimezone(UTC) not in placement.exdates]
    assert sorted(e.start for e in expected) == mine


def test_rrule_limits() -> None:
    result = parse("rrule_exdate.ics")
    assert reasons(result) == {
        "every-second@example.org": "bad_rrule",
        "daily-forever@example.org": "too_many_instances",
    }
    # A rule matching nothing only has its DTSTART occurrence: a single event.
    never = by_uid(result)["never-matches@example.org"]
    assert never.rrule is None
    assert never.start == utc(2026, 4, 6, 1)


def test_daily_rule_accepted_when_limit_allows() -> None:
    limits = ImportLimits(max_rrule_instances=2_000)
    result = parse("rrule_exdate.ics", limits=limits)
    assert by_uid(result)["daily-forever@example.org"].rrule == "FREQ=DAILY"


def test_floating_times_use_default_zone() -> None:
    events = by_uid(parse("floating.ics"))
    lecture = events["float-1@example.org"]
    assert lecture.start == utc(2026, 4, 10, 6)
    assert lecture.end == utc(2026, 4, 10, 7, 30)  # from DURATION
    assert lecture.tzid == "Asia/Shanghai"
    unknown = events["float-2@example.org"]
    assert unknown.start == utc(2026, 4, 11, 1)
    assert unknown.end == unknown.start  # RFC 5545: no DTEND/DURATION, timed
    allday = events["allday-nodtend@example.org"]
    assert (allday.start, allday.end) == (date(2026, 4, 12), date(2026, 4, 13))


def test_floating_times_follow_default_tz_argument() -> None:
    events = by_uid(parse("floating.ics", default_tz="Europe/Berlin"))
    assert events["float-1@example.org"].start == utc(2026, 4, 10, 12)
    assert events["float-1@example.org"].tzid == "Europe/Berlin"


def test_dtstamp_only_change_keeps_fingerprint() -> None:
    data = load("indico.ics")
    restamped = data.replace(b"DTSTAMP:20260405T081512Z", b"DTSTAMP:20260406T000000Z")
    restamped = restamped.replace(b"END:VEVENT", b"SEQUENCE:3\r\nEND:VEVENT")
    assert restamped != data
    before = {e.key: e.fingerprint for e in parse_calendar(data).events}
    after = {e.key: e.fingerprint for e in parse_calendar(restamped).events}
    assert before == after
    changed = data.replace("开幕式".encode(), "开幕式（改到主会场）".encode())
    moved = {e.key: e.fingerprint for e in parse_calendar(changed).events}
    key = ("indico-contribution-1234-5678@indico.example.org", "")
    assert moved[key] != before[key]


def test_reimport_plan_is_idempotent_and_never_deletes() -> None:
    first = parse("indico.ics").events
    plan = plan_import({}, first)
    assert len(plan.create) == 2
    assert not plan.update
    assert not plan.unchanged
    stored = {e.key: e.fingerprint for e in plan.create}

    restamped = load("indico.ics").replace(b"20260405T081512Z", b"20260501T000000Z")
    again = plan_import(stored, parse_calendar(restamped).events)
    assert (again.create, again.update, again.missing) == ([], [], [])
    assert len(again.unchanged) == 2

    changed = load("indico.ics").replace(b"20260515T090000Z", b"20260516T090000Z")
    update = plan_import(stored, parse_calendar(changed).events)
    assert [e.uid for e in update.update] == ["indico-event-1234@indico.example.org"]
    assert update.create == []

    # A windowed re-fetch that no longer lists the conference: reported, not deleted.
    only_contribution = [e for e in first if "contribution" in e.uid]
    windowed = plan_import(stored, only_contribution)
    assert windowed.missing == [("indico-event-1234@indico.example.org", "")]
    assert windowed.create == []
    assert windowed.update == []


def ics(*event_lines: str, header: str = "") -> bytes:
    """Wrap VEVENT property lines in a minimal calendar."""
    body = "\r\n".join(["BEGIN:VEVENT", *event_lines, "END:VEVENT"])
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        f"{header}{body}\r\nEND:VCALENDAR\r\n"
    ).encode()


GOOD = ("UID:x@example.org", "DTSTAMP:20260301T000000Z", "DTSTART:20260301T010000Z")


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (("UID:x", "DTSTAMP:20260301T000000Z"), "missing_dtstart"),
        (("UID:" + "u" * 300, "DTSTART:20260301T010000Z"), "bad_uid"),
        ((*GOOD, "DTEND;VALUE=DATE:20260302"), "bad_dtend"),
        ((*GOOD, "DTEND:20260301T020000Z", "DURATION:PT1H"), "bad_dtend"),
        ((*GOOD, "DURATION:-PT1H"), "end_before_start"),
        (("UID:x", "DTSTART;VALUE=DATE:20260301", "DURATION:PT3H"), "bad_dtend"),
        (("UID:x", "DTSTART:30260301T010000Z"), "bad_dtstart"),
        ((*GOOD, "RRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20260401T000000Z"), "bad_rrule"),
        ((*GOOD, "RRULE:FREQ=HOURLY;COUNT=3"), "bad_rrule"),
        ((*GOOD, "RRULE:FREQ=WEEKLY;BYDAY=XX"), "bad_rrule"),
        ((*GOOD, "RECURRENCE-ID;VALUE=DATE:20260301"), "bad_recurrence_id"),
        ((*GOOD, "DTSTART:20260302T010000Z"), "bad_dtstart"),
        ((*GOOD, "RRULE:FREQ=DAILY;COUNT=2", "RRULE:FREQ=WEEKLY;COUNT=2"), "bad_rrule"),
    ],
)
def test_invalid_events_are_skipped_with_code(
    lines: tuple[str, ...], code: str
) -> None:
    result = parse_calendar(ics(*lines))
    assert result.error is None
    assert result.events == []
    assert [s.reason_code for s in result.skipped] == [code]


def test_all_day_dtend_equal_to_dtstart_means_one_day() -> None:
    data = ics("UID:x", "DTSTART;VALUE=DATE:20260301", "DTEND;VALUE=DATE:20260301")
    (event,) = parse_calendar(data).events
    assert (event.start, event.end) == (date(2026, 3, 1), date(2026, 3, 2))


def test_unparseable_unrelated_line_does_not_drop_event() -> None:
    (event,) = parse_calendar(ics(*GOOD, "this is garbage", "SUMMARY:ok")).events
    assert event.summary == "ok"


def test_text_is_cleaned_truncated_and_urls_restricted() -> None:
    data = ics(
        *GOOD,
        "SUMMARY:a\x01b",
        "DESCRIPTION:" + "长" * 50,
        "URL:javascript:alert(1)",
    )
    limits = ImportLimits(max_description_chars=10)
    (event,) = parse_calendar(data, limits=limits).events
    assert event.summary == "ab"
    assert event.description == "长" * 10
    assert event.url is None


def test_unknown_status_and_missing_summary() -> None:
    (event,) = parse_calendar(ics(*GOOD, "STATUS:NEEDS-ACTION")).events
    assert event.status == "CONFIRMED"
    assert event.summary == ""


def test_duplicate_exdates_and_rdates() -> None:
    data = ics(
        *GOOD,
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "RDATE:20260320T010000Z",
        "EXDATE:20260308T010000Z,20260308T010000Z",
    )
    (event,) = parse_calendar(data).events
    assert event.rdates == (utc(2026, 3, 20, 1),)
    assert event.exdates == (utc(2026, 3, 8, 1),)
    assert event.rrule == "FREQ=WEEKLY;COUNT=4"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"hello world", "not_a_calendar"),
        (b"", "not_a_calendar"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "not_a_calendar"),
        (b"BEGIN:VCALENDAR\r\nSUMMARY:\xff\xfe\xfd\xfc\r\n", "undecodable"),
        # icalendar itself raises AttributeError on a VTIMEZONE with two TZIDs.
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:A\r\nTZID:B\r\n"
            b"END:VTIMEZONE\r\nEND:VCALENDAR\r\n",
            "not_a_calendar",
        ),
    ],
)
def test_file_level_errors(data: bytes, code: str) -> None:
    result = parse_calendar(data)
    assert result.error == code
    assert result.events == []
    assert result.skipped == []


def test_oversize_file_rejected_before_parsing() -> None:
    data = load("google.ics")
    result = parse_calendar(data, limits=ImportLimits(max_bytes=len(data) - 1))
    assert result.error == "too_large"
    assert parse_calendar(data, limits=ImportLimits(max_bytes=len(data))).error is None


def test_too_many_components() -> None:
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20260301T010000Z\r\nEND:VEVENT\r\n"
        for i in range(30)
    )
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n".encode()
    assert parse_calendar(data, limits=ImportLimits(max_components=29)).error == (
        "too_many_components"
    )
    assert (
        len(parse_calendar(data, limits=ImportLimits(max_components=30)).events) == 30
    )


def test_empty_calendar_is_not_an_error() -> None:
    result = parse_calendar(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    assert (result.error, result.events, result.skipped) == (None, [], [])


def test_imported_event_is_frozen() -> None:
    (event,) = parse("bom.ics").events
    with pytest.raises(AttributeError):
        event.summary = "x"  # type: ignore[misc]
    assert event.end - event.start == timedelta(hours=1)


def test_module_is_pure() -> None:
    tree = ast.parse(Path(ics_import.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not imported & {"flask", "flask_babel", "sqlalchemy", "pdtracker"}
