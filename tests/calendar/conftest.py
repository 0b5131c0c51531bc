"""Fixtures for the iCalendar builder tests: a reference feed and the parser harness."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pdtracker.calendar.ics import CalendarEntry, build_calendar, feed_uid
from tests.interop import libical, pyparsers
from tests.interop.radicale import radicale_server  # noqa: F401  (fixture)

DATA = Path(__file__).parent / "data"
SH = ZoneInfo("Asia/Shanghai")
DOMAIN = "example.edu.cn"
WINDOW = (date(2026, 1, 1), date(2027, 1, 1))
UPDATED = datetime(2026, 2, 1, 10, 30, 15, tzinfo=SH)  # 02:30:15Z
FEED_NAME = "张老师的教师发展活动"

LECTURE_SUMMARY = "讲座：人工智能与教学设计，第1讲；主讲人 王教授, AI; C:\\课件 🎓"
LECTURE_DESCRIPTION = (
    "本次讲座介绍人工智能在职业院校课堂中的应用，包括：课程设计、作业评价、"
    "学情分析等内容。\n请提前 10 分钟到场; 携带笔记本电脑, 并安装 Python 3.11。"
    "\n路径：C:\\pd\\课件 👩‍🏫"
)
LECTURE_LOCATION = "上海市徐汇区，某某职业技术学院 3号楼 201室; 线上: 腾讯会议"

Parser = Callable[[bytes, tuple[date, date]], pyparsers.ParseResult]
PARSERS = ("icalendar", "ical_strict", "vobject", "libical", "icaljs", "nodeical")


def uid(kind: str, pk: int) -> str:
    """The UID the builder's callers use for a row."""
    return feed_uid(kind, pk, DOMAIN)


def make_entries() -> list[CalendarEntry]:
    """The reference feed: one of each kind of entry pdtracker publishes."""
    return [
        CalendarEntry(
            uid=uid("event", 1),
            summary=LECTURE_SUMMARY,
            start=datetime(2026, 3, 11, 9, 0, tzinfo=SH),
            end=datetime(2026, 3, 11, 11, 0, tzinfo=SH),
            updated_at=UPDATED,
            location=LECTURE_LOCATION,
            description=LECTURE_DESCRIPTION,
            url="https://pd.example.edu.cn/events/1",
            categories=("讲座", "AI, 教学"),
            sequence=2,
        ),
        CalendarEntry(
            uid=uid("event", 2),
            summary="全国职业教育产教融合大会",
            start=date(2026, 4, 20),
            end=date(2026, 4, 23),  # 20-22 April inclusive
            all_day=True,
            updated_at=UPDATED,
            location="深圳会展中心",
            transparent=True,
        ),
        CalendarEntry(
            uid=uid("placement", 3),
            summary="企业实践：华为深圳研究所（四周）",
            start=date(2026, 5, 4),
            end=date(2026, 5, 30),  # Mon 4 May - Fri 29 May
            all_day=True,
            updated_at=UPDATED,
            transparent=True,
            categories=("企业实践",),
        ),
        CalendarEntry(
            uid=uid("placement", 4),
            summary="企业实践：工作日驻厂",
            start=datetime(2026, 6, 1, 9, 0, tzinfo=SH),
            end=datetime(2026, 6, 1, 17, 0, tzinfo=SH),
            updated_at=UPDATED,
            transparent=True,
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260626T170000",
            exdates=(datetime(2026, 6, 19, 9, 0, tzinfo=SH),),  # 端午节
        ),
        CalendarEntry(
            uid=uid("event", 5),
            summary="每周教研研讨",
            start=datetime(2026, 3, 3, 14, 0, tzinfo=SH),
            end=datetime(2026, 3, 3, 16, 0, tzinfo=SH),
            updated_at=UPDATED,
            rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20260428T155959Z",
            # given in UTC on purpose: the builder must write it in DTSTART's TZID
            exdates=(datetime(2026, 3, 17, 6, 0, tzinfo=UTC),),
        ),
        CalendarEntry(
            uid=uid("event", 6),
            summary="【已取消】课程思政研讨",
            start=datetime(2026, 3, 5, 6, 0, tzinfo=UTC),
            end=datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
            updated_at=UPDATED + timedelta(days=3),
            status="CANCELLED",
            sequence=1,
        ),
        CalendarEntry(
            uid=uid("event", 7),
            summary="周五全天教研",
            start=date(2026, 4, 3),
            end=date(2026, 4, 4),
            all_day=True,
            updated_at=UPDATED,
            status="TENTATIVE",
            rrule="FREQ=WEEKLY;BYDAY=FR;UNTIL=20260424",
            exdates=(date(2026, 4, 10),),
        ),
    ]


def _ev(pk: int, kind: str, start: str, end: str, summary: str, **kw) -> dict:
    series = kw.get("series", False)
    return {
        "uid": uid(kind, pk),
        "recurrence_id": start if series else None,
        "start_utc": start,
        "end_utc": end,
        "all_day": len(start) == 10,
        "status": kw.get("status", "CONFIRMED"),
        "summary": summary,
    }


def expected_events() -> list[dict]:
    """make_entries() as every parser should see it inside WINDOW (UTC instants)."""
    out = [
        _ev(1, "event", "2026-03-11T01:00:00Z", "2026-03-11T03:00:00Z", LECTURE_SUMMARY),
        _ev(2, "event", "2026-04-20", "2026-04-23", "全国职业教育产教融合大会"),
        _ev(3, "placement", "2026-05-04", "2026-05-30", "企业实践：华为深圳研究所（四周）"),
        _ev(6, "event", "2026-03-05T06:00:00Z", "2026-03-05T08:00:00Z",
            "【已取消】课程思政研讨", status="CANCELLED"),
    ]  # fmt: skip
    weekdays = [date(2026, 6, 1) + timedelta(days=i) for i in range(26)]
    for day in weekdays:
        if day.weekday() < 5 and day != date(2026, 6, 19):
            iso = day.isoformat()
            out.append(
                _ev(4, "placement", f"{iso}T01:00:00Z", f"{iso}T09:00:00Z",
                    "企业实践：工作日驻厂", series=True)
            )  # fmt: skip
    for day in ("03-03", "03-10", "03-24", "03-31", "04-07", "04-14", "04-21", "04-28"):
        out.append(
            _ev(5, "event", f"2026-{day}T06:00:00Z", f"2026-{day}T08:00:00Z",
                "每周教研研讨", series=True)
        )  # fmt: skip
    for day in ("03", "17", "24"):
        nxt = f"2026-04-{int(day) + 1:02}"
        out.append(
            _ev(7, "event", f"2026-04-{day}", nxt, "周五全天教研",
                series=True, status="TENTATIVE")
        )  # fmt: skip
    return sorted(out, key=lambda e: (e["uid"], e["start_utc"]))


@pytest.fixture
def entries() -> list[CalendarEntry]:
    """Fresh reference entries."""
    return make_entries()


@pytest.fixture
def feed(entries: list[CalendarEntry]) -> bytes:
    """The reference feed's bytes."""
    return build_calendar(entries, name=FEED_NAME, description="双师型教师发展活动")


def _missing(reason: str) -> None:
    """Skip, or fail when the environment promises the tools (CI)."""
    if os.environ.get("PDTRACKER_REQUIRE_INTEROP") == "1":
        pytest.fail(f"PDTRACKER_REQUIRE_INTEROP=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def require_node() -> None:
    """Skip unless node and tests/interop/node_modules are installed."""
    reason = pyparsers.node_available()
    if reason:
        _missing(reason)


@pytest.fixture
def require_libical() -> None:
    """Skip unless libical.so.3 can be loaded."""
    if not libical.available():
        _missing("libical.so.3 not found: apt-get install -y libical3")


@pytest.fixture
def parsers(request: pytest.FixtureRequest) -> Callable[[str], Parser]:
    """``parsers(name)`` -> that parser's ParseResult function; skips if not installed."""

    def get(name: str) -> Parser:
        if name in ("icaljs", "nodeical"):
            request.getfixturevalue("require_node")
        elif name == "libical":
            request.getfixturevalue("require_libical")
        return getattr(pyparsers, f"parse_{name}")

    return get
