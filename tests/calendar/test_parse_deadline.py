"""The parser stops at the import's deadline, even inside icalendar (issue 10, finding 3)."""

from __future__ import annotations

from pdtracker.calendar.ics_import import Deadline, ImportLimits, parse_calendar


def _many_lines(count: int) -> bytes:
    """One VEVENT with many short X- properties: ~50 µs each inside icalendar."""
    lines = "".join(f"X-A{n}:b\r\n" for n in range(count))
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
        "DTSTART:20300410T090000\r\n" + lines + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


class CountingClock:
    """A clock that advances one second per reading: time is the number of checks.

    It makes the test independent of the machine's speed and load: the deadline
    expires after a fixed number of checks, and the readings show how soon the
    parser stopped after that.
    """

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return float(self.readings)


def test_content_lines_are_parsed_under_the_deadline() -> None:
    data = _many_lines(200_000)  # about 10 s of icalendar parsing unbounded
    clock = CountingClock()
    result = parse_calendar(data, deadline=Deadline(100, clock=clock))
    assert (result.error, result.events) == ("too_slow", [])
    # Checked at every content line, and stopped at the first check past the
    # deadline: a few readings past 100, not one per line of the file.
    assert 100 < clock.readings < 150


def test_expensive_rules_stop_at_the_deadline_not_per_event() -> None:
    rule = "FREQ=DAILY;COUNT=1000;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:r{n}@x\r\nDTSTART:20300410T090000\r\n"
        f"RRULE:{rule}\r\nEND:VEVENT\r\n"
        for n in range(400)
    )
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n"
    result = parse_calendar(data.encode(), deadline=Deadline(0.1))
    # Not a list of per-event "bad_rrule" skips: the file as a whole is too slow.
    assert (result.error, result.events, result.skipped) == ("too_slow", [], [])


def test_default_budget_comes_from_the_limits() -> None:
    data = _many_lines(50_000)
    result = parse_calendar(data, limits=ImportLimits(time_budget_seconds=0.01))
    assert result.error == "too_slow"
