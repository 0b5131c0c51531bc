"""The recurrence form's rules and a series in words: pure modules, no app."""

from __future__ import annotations

import ast
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pdtracker.events.occurrences import expand, occurrence_key, parse_key
from pdtracker.events.rulespec import RuleSpec, build_rrule, nth_weekday, parse_rrule
from pdtracker.events.series_words import describe_series

EVENTS = Path(__file__).resolve().parents[2] / "pdtracker" / "events"
PURE = {"rulespec": set(), "series_words": {"pdtracker"}, "occurrences": {"dateutil"}}
SH = ZoneInfo("Asia/Shanghai")
WED = date(2026, 3, 4)  # the first Wednesday of March 2026


@pytest.mark.parametrize("name", sorted(PURE))
def test_pure_modules_import_no_framework(name: str) -> None:
    tree = ast.parse((EVENTS / f"{name}.py").read_text(encoding="utf-8"))
    roots, inside = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
            if node.module.startswith("pdtracker."):
                inside.add(node.module)
    outside = {r for r in roots if r not in sys.stdlib_module_names}
    assert outside <= PURE[name] | {"__future__"}
    assert inside <= {"pdtracker.events.rulespec"}


@pytest.mark.parametrize(
    ("spec", "first", "rule"),
    [
        (RuleSpec("weekly", weekdays=(2,), count=10), WED,
         "FREQ=WEEKLY;BYDAY=WE;COUNT=10"),
        (RuleSpec("weekly", weekdays=(4, 2), count=6), WED,
         "FREQ=WEEKLY;BYDAY=WE,FR;COUNT=6"),
        (RuleSpec("weekly", count=3), WED, "FREQ=WEEKLY;BYDAY=WE;COUNT=3"),
        (RuleSpec("daily", interval=2, end="until", until=date(2026, 3, 20)), WED,
         "FREQ=DAILY;INTERVAL=2;UNTIL=20260320"),
        (RuleSpec("monthly", count=4), date(2026, 3, 10),
         "FREQ=MONTHLY;BYMONTHDAY=10;COUNT=4"),
        (RuleSpec("monthly", monthly="weekday", count=4), date(2026, 3, 10),
         "FREQ=MONTHLY;BYDAY=2TU;COUNT=4"),
        (RuleSpec("monthly", monthly="weekday", count=4), date(2026, 3, 27),
         "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4"),
    ],
)  # fmt: skip
def test_build_and_parse_round_trip(spec: RuleSpec, first: date, rule: str) -> None:
    assert build_rrule(spec, first) == rule
    back = parse_rrule(rule, first, SH)
    assert back is not None
    assert build_rrule(back, first) == rule


def test_parse_reads_a_utc_until_as_the_local_day() -> None:
    spec = parse_rrule("FREQ=WEEKLY;BYDAY=WE;UNTIL=20260624T155959Z", WED, SH)
    assert spec is not None
    assert (spec.end, spec.until) == ("until", date(2026, 6, 24))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;COUNT=3",
        "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=1,15;COUNT=4",
        "FREQ=MONTHLY;BYDAY=3TU;COUNT=4",  # not the start's weekday position
        "FREQ=WEEKLY;BYDAY=WE",  # endless
        "FREQ=WEEKLY;BYDAY=WE;COUNT=3;BYHOUR=9",
        "FREQ=WEEKLY;WKST=SU;BYDAY=WE;COUNT=3",
        "garbage",
    ],
)
def test_rules_the_form_cannot_show_are_none(rule: str) -> None:
    assert parse_rrule(rule, WED, SH) is None


def test_nth_weekday() -> None:
    assert nth_weekday(date(2026, 3, 10)) == 2
    assert nth_weekday(date(2026, 3, 24)) == 4
    assert nth_weekday(date(2026, 3, 31)) == -1
    assert nth_weekday(date(2026, 2, 24)) == -1  # the fourth is also the last


def test_series_in_words_chinese_and_english() -> None:
    spec = RuleSpec("weekly", weekdays=(2,), count=10)
    start = datetime(2026, 3, 4, 14, 0)
    end = datetime(2026, 3, 4, 15, 30)
    zh = describe_series(
        spec, start, end, count=10, locale="zh_Hans_CN", this_year=2026
    )
    assert zh == "每周三 14:00–15:30，共 10 次，3 月 4 日起"
    en = describe_series(spec, start, end, count=10, locale="en", this_year=2026)
    assert en == "Every Wednesday 14:00–15:30, 10 sessions, from 4 March"


@pytest.mark.parametrize(
    ("spec", "first", "zh", "en"),
    [
        (RuleSpec("weekly", weekdays=(2, 4), count=6), WED, "每周三、五",
         "Every Wednesday and Friday"),
        (RuleSpec("weekly", interval=2, weekdays=(0,), count=6), date(2026, 3, 2),
         "每 2 周的周一", "Every 2 weeks on Monday"),
        (RuleSpec("daily", count=5), WED, "每天", "Every day"),
        (RuleSpec("monthly", monthly="weekday", count=4), date(2026, 3, 10),
         "每月第二个周二", "Monthly on the second Tuesday"),
        (RuleSpec("monthly", count=4), date(2026, 3, 22), "每月 22 日",
         "Monthly on the 22nd"),
        (None, WED, "定期重复", "Repeats"),
    ],
)  # fmt: skip
def test_patterns(spec, first: date, zh: str, en: str) -> None:
    said_zh = describe_series(spec, first, None, count=4, locale="zh", this_year=2026)
    said_en = describe_series(spec, first, None, count=4, locale="en", this_year=2026)
    assert said_zh.startswith(zh + "，")
    assert said_en.startswith(en + ", ")


def test_until_and_other_years_are_said() -> None:
    spec = RuleSpec("weekly", weekdays=(2,), end="until", until=date(2027, 1, 6))
    said = describe_series(spec, WED, None, count=None, locale="zh", this_year=2026)
    assert said == "每周三，至 2027 年 1 月 6 日，3 月 4 日起"


def test_occurrences_skip_excluded_dates_and_keep_wall_clock() -> None:
    first = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
    excluded = (first + timedelta(weeks=1)).isoformat()
    occs = expand(
        starts_at=first, ends_at=first + timedelta(hours=1, minutes=30),
        tzid="Asia/Shanghai", all_day=False, rrule="FREQ=WEEKLY;COUNT=4",
        exdates=[excluded],
    )  # fmt: skip
    assert [o.key for o in occs] == [
        "20260304T060000Z", "20260318T060000Z", "20260325T060000Z",
    ]  # fmt: skip
    assert parse_key(occs[0].key) == first
    assert occurrence_key(date(2026, 3, 4), all_day=True) == "20260304"
    assert parse_key("20260304") == date(2026, 3, 4)
    assert parse_key("nonsense") is None
