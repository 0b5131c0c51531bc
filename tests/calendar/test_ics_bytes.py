"""Byte-level rules for built feeds: CRLF, folding, UTF-8, determinism.

Rule ids (F2, F7, F11, F12) are those of docs/calendar-feeds.md.
"""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from pdtracker.calendar import ics
from pdtracker.calendar.ics import CalendarEntry, build_calendar

from .conftest import FEED_NAME, LECTURE_DESCRIPTION, LECTURE_SUMMARY, SH

ROOT = Path(__file__).resolve().parents[2]
UNFOLD = re.compile(rb"\r\n[ \t]")


def physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def logical_lines(data: bytes) -> list[str]:
    return UNFOLD.sub(b"", data).decode("utf-8").split("\r\n")[:-1]


def assert_wire_format(data: bytes) -> None:
    """Every rule a single physical-line reader relies on."""
    assert not data.startswith(codecs.BOM_UTF8)
    assert data.count(b"\n") == data.count(b"\r\n"), "bare LF"
    assert data.count(b"\r") == data.count(b"\r\n"), "bare CR"
    lines = physical_lines(data)
    for number, line in enumerate(lines):
        assert len(line) <= 75, f"line {number} has {len(line)} octets"
        line.decode("utf-8")  # a fold never splits a multi-byte character
        if number + 1 < len(lines) and lines[number + 1].startswith(b" "):
            # icalendar #1501: keep backslash escapes on one physical line
            assert not line.endswith(b"\\"), line
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert lines[-1] == b"END:VCALENDAR"


def test_reference_feed_wire_format(feed: bytes) -> None:
    assert_wire_format(feed)


def test_long_chinese_lines_are_folded(feed: bytes) -> None:
    lines = physical_lines(feed)
    continuation = [line for line in lines if line.startswith(b" ")]
    assert len(continuation) >= 5
    assert max(len(line) for line in lines) >= 70  # folds use the room they have


def test_unfolding_restores_the_logical_lines(feed: bytes) -> None:
    logical = logical_lines(feed)
    summary = next(line for line in logical if line.startswith("SUMMARY:讲座"))
    assert summary == (
        "SUMMARY:讲座：人工智能与教学设计，第1讲；主讲人 王教授\\, AI\\; C:\\\\课件 🎓"
    )
    description = next(line for line in logical if line.startswith("DESCRIPTION:本次"))
    expected = (
        LECTURE_DESCRIPTION.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )
    assert description == f"DESCRIPTION:{expected}"


def test_icalendar_reserialises_the_feed_byte_for_byte(feed: bytes) -> None:
    # Same property order, escaping and fold points as icalendar's own writer.
    assert Calendar.from_ical(feed).to_ical() == feed


def test_same_data_gives_same_bytes(entries: list[CalendarEntry]) -> None:
    first = build_calendar(entries, name=FEED_NAME)
    ics._vevent.cache_clear()
    assert build_calendar(list(entries), name=FEED_NAME) == first
    assert build_calendar(iter(entries), name=FEED_NAME) == first


def test_same_bytes_in_another_process_zone_and_hash_seed(feed: bytes) -> None:
    # A different local zone, hash seed and wall clock must not leak into the feed.
    code = (
        "import sys\n"
        "from pdtracker.calendar.ics import build_calendar\n"
        "from tests.calendar.conftest import make_entries, FEED_NAME\n"
        "sys.stdout.buffer.write(build_calendar(make_entries(), name=FEED_NAME,"
        " description='双师型教师发展活动'))\n"
    )
    env = {**os.environ, "TZ": "America/Los_Angeles", "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True
    )
    assert out.stdout == feed


def test_no_bom_and_utf8_body(feed: bytes) -> None:
    assert not feed.startswith(codecs.BOM_UTF8)
    text = feed.decode("utf-8")
    assert LECTURE_SUMMARY.split("，")[0] in text


def test_empty_feed_is_well_formed() -> None:
    data = build_calendar([], name="空")
    assert_wire_format(data)
    cal = Calendar.from_ical(data)
    cal.validate()  # RFC 5545 needs one component: the VTIMEZONE (F7)
    assert [c.name for c in cal.subcomponents] == ["VTIMEZONE"]


_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("，；：,;:\\\n\r\t \"'^讲座教师🎓👩‍🏫é"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(summary=_TEXT, description=_TEXT, location=_TEXT)
# Found by a random run: an escaped backslash ("\\") right before a fold point was
# split in two, because the fold stepped back over its second half.
@example(
    summary="",
    description="0000000000000,,,\n\n" + "\x80" * 9 + "𐀀𐀀𐀀𐀀\\𐀀",
    location="",
)
def test_any_text_survives_folding_and_escaping(
    summary: str, description: str, location: str
) -> None:
    entry = CalendarEntry(
        uid="event-1@pdtracker.example.edu.cn",
        summary=summary,
        start=datetime(2026, 3, 11, 9, 0, tzinfo=SH),
        end=datetime(2026, 3, 11, 10, 0, tzinfo=SH),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        description=description,
        location=location,
    )
    data = build_calendar([entry], name=summary or "x")
    assert_wire_format(data)
    event = Calendar.from_ical(data).walk("VEVENT")[0]

    def expected(value: str) -> str:
        # control characters are dropped; CRLF/CR become LF (what "\n" means)
        value = ics._CONTROL_CHARS.sub("", value)
        return value.replace("\r\n", "\n").replace("\r", "\n")

    assert str(event["SUMMARY"]) == expected(summary)
    for name, value in (("DESCRIPTION", description), ("LOCATION", location)):
        if value:
            assert str(event[name]) == expected(value)
        else:
            assert name not in event
    # icalendar re-serialises the same content lines. Its folds may differ: its
    # #1501 fix steps back one character before any backslash, so it splits an
    # escaped backslash ("\\\\") that ends at a fold, which ours never does.
    assert logical_lines(Calendar.from_ical(data).to_ical()) == logical_lines(data)
