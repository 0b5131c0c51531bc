"""Staff mark a session's attendance by hand: one teacher, or a pasted list.

A list is what a paper sign-in sheet becomes: usernames or staff numbers, one per
line or separated by commas or spaces. Each teacher found is marked through the
events area (source ``bulk``), each in a savepoint, so one refusal (no seat, on
the waitlist) does not undo the others; the result says who was marked, who had
been already, who was refused and which entries matched nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events import attendance
from pdtracker.events.errors import EventError
from pdtracker.events.models import AttendanceSource, Event
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile

MAX_ENTRIES = 500
_SEPARATORS = re.compile(r"[\s,;，；、]+")


@dataclass
class ListResult:
    """What marking from a list did, entry by entry."""

    marked: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    refused: list[tuple[User, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def parse_entries(text: str) -> list[str]:
    """The distinct usernames or staff numbers in a pasted list, in their order."""
    return list(dict.fromkeys(e for e in _SEPARATORS.split(text) if e))


def find_teachers(entries: list[str]) -> tuple[dict[str, User], list[str]]:
    """Teachers by the entry that names them (username or staff number), in one query;
    and the entries that name nobody."""
    if not entries:
        return {}, []
    users = db.session.scalars(
        select(User)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .where(
            or_(User.username.in_(entries), TeacherProfile.staff_number.in_(entries))
        )
        .options(joinedload(User.teacher_profile))
    ).unique()
    # Each college numbers its own people: a staff number held in several
    # colleges names no one teacher, so it matches nobody (a login does).
    by_staff: dict[str, list[User]] = {}
    matched = list(users)
    for user in matched:
        if (profile := user.teacher_profile) and profile.staff_number in entries:
            by_staff.setdefault(profile.staff_number, []).append(user)
    found = {s: named[0] for s, named in by_staff.items() if len(named) == 1}
    found |= {u.username: u for u in matched if u.username in entries}
    return found, [e for e in entries if e not in found]


def mark_one(actor: User, event: Event, key: str, teacher: User, now: datetime) -> bool:
    """Mark one teacher by hand; False if the session was credited before.

    Raises EventError when the teacher cannot be marked (no seat, not started…).
    """
    activity = attendance.mark_session_attended(
        actor, event, key, teacher, AttendanceSource.MANUAL.value, now
    )
    return activity is not None


def mark_list(
    actor: User, event: Event, key: str, text: str, now: datetime
) -> ListResult:
    """Mark every teacher the pasted list names (source ``bulk``)."""
    entries = parse_entries(text)[:MAX_ENTRIES]
    found, unknown = find_teachers(entries)
    result = ListResult(unknown=unknown)
    seen: set[int] = set()
    for teacher in found.values():
        if teacher.id in seen:
            continue  # named twice (username and staff number)
        seen.add(teacher.id)
        try:
            with db.session.begin_nested():
                activity = attendance.mark_session_attended(
                    actor, event, key, teacher, AttendanceSource.BULK.value, now
                )
        except EventError as exc:
            result.refused.append((teacher, exc.code))
            continue
        (result.marked if activity is not None else result.already).append(teacher)
    return result
