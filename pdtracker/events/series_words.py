"""A series in words, in the reader's language (pure: stdlib only, no Flask).

"每周三 14:00–15:30，共 10 次，3 月 4 日起" or "Every Wednesday 14:00–15:30,
10 sessions, from 4 March". The caller passes the locale ("zh…" or anything else
for English), the series' form view (:class:`~.rulespec.RuleSpec`, or None for a
rule the form cannot show) and the first session's local start and end.
"""

from __future__ import annotations

from datetime import date, datetime

from pdtracker.events.rulespec import RuleSpec, nth_weekday

_ZH_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_EN_DAYS = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
_ZH_NTH = {1: "第一个", 2: "第二个", 3: "第三个", 4: "第四个", -1: "最后一个"}
_EN_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def describe_series(
    spec: RuleSpec | None,
    start: datetime | date,
    end: datetime | date | None,
    *,
    count: int | None,
    locale: str,
    this_year: int | None = None,
) -> str:
    """The series in one line.

    ``start``/``end`` are the first session's local start and end (dates for an
    all-day series: then no times are given). ``count`` is the number of sessions
    (None if endless); ``this_year`` leaves the year out of dates in that year.
    """
    zh = locale.lower().startswith("zh")
    first = start.date() if isinstance(start, datetime) else start
    pattern = _pattern(spec, first, zh)
    times = _times(start, end)
    pieces = [f"{pattern} {times}" if times else pattern]
    if count is not None:
        pieces.append(f"共 {count} 次" if zh else _en_count(count))
    elif spec is not None and spec.until is not None:
        until = _day(spec.until, zh, this_year)
        pieces.append(f"至 {until}" if zh else f"until {until}")
    since = _day(first, zh, this_year)
    pieces.append(f"{since}起" if zh else f"from {since}")
    return ("，" if zh else ", ").join(pieces)


def _en_count(count: int) -> str:
    return "1 session" if count == 1 else f"{count} sessions"


def _pattern(spec: RuleSpec | None, first: date, zh: bool) -> str:
    if spec is None:
        return "定期重复" if zh else "Repeats"
    n = spec.interval
    if spec.freq == "daily":
        if zh:
            return "每天" if n == 1 else f"每 {n} 天"
        return "Every day" if n == 1 else f"Every {n} days"
    if spec.freq == "weekly":
        days = spec.weekdays or (first.weekday(),)
        if zh:
            names = "、".join(_ZH_DAYS[d] for d in days)
            names = names if len(days) == 1 else names.replace("、周", "、")
            return f"每{names}" if n == 1 else f"每 {n} 周的{names}"
        en = _en_join([_EN_DAYS[d] for d in days])
        return f"Every {en}" if n == 1 else f"Every {n} weeks on {en}"
    if spec.monthly == "weekday":
        nth = nth_weekday(first)
        if zh:
            every = "每月" if n == 1 else f"每 {n} 个月"
            return f"{every}{_ZH_NTH[nth]}{_ZH_DAYS[first.weekday()]}"
        every = "Monthly" if n == 1 else f"Every {n} months"
        return f"{every} on the {_EN_NTH[nth]} {_EN_DAYS[first.weekday()]}"
    if zh:
        every = "每月" if n == 1 else f"每 {n} 个月"
        return f"{every} {first.day} 日"
    every = "Monthly" if n == 1 else f"Every {n} months"
    return f"{every} on the {_ordinal(first.day)}"


def _en_join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ordinal(n: int) -> str:
    suffix = (
        "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    )
    return f"{n}{suffix}"


def _times(start: datetime | date, end: datetime | date | None) -> str:
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return ""
    return f"{start:%H:%M}–{end:%H:%M}"


def _day(day: date, zh: bool, this_year: int | None) -> str:
    if zh:
        text = f"{day.month} 月 {day.day} 日"
        return text if day.year == this_year else f"{day.year} 年 {text}"
    text = f"{day.day} {_EN_MONTHS[day.month - 1]}"
    return text if day.year == this_year else f"{text} {day.year}"
