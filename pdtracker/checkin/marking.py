"""Staff mark a session's attendance by hand: one teacher, or a pasted list.

A list is what a paper sign-in sheet becomes: usernames or staff numbers (bare, or
after the college's code: ``NORTH-0001``), one per line or separated by commas or
spaces. Each teacher found is marked through the
events area (source ``bulk``), each in a savepoint, so one refusal (no seat, on
the waitlist) does not undo the others; the result says who was marked, who had
been already, who was refused, which entries matched nobody and which staff numbers
several colleges use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events import attendance
from pdtracker.events.errors import EventError
from pdtracker.events.models import (
    AttendanceSource,
    Event,
    Registration,
    RegistrationStatus,
)
from pdtracker.extensions import db
from pdtracker.org.models import Institution, TeacherProfile

MAX_ENTRIES = 500
_SEPARATORS = re.compile(r"[\s,;，；、]+")


@dataclass
class ListResult:
    """What marking from a list did, entry by entry."""

    marked: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    refused: list[tuple[User, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # Staff numbers several colleges use, none of whose holders registered.
    ambiguous: list[str] = field(default_factory=list)


def parse_entries(text: str) -> list[str]:
    """The distinct usernames or staff numbers in a pasted list, in their order."""
    return list(dict.fromkeys(e for e in _SEPARATORS.split(text) if e))


class Matched(NamedTuple):
    """Teachers by the entry that names them; the entries that name nobody, and of
    those the staff numbers several colleges use (the page asks for the college
    code or the username instead)."""

    found: dict[str, User]
    unmatched: list[str]
    ambiguous: list[str]


def find_teachers(entries: list[str], event_id: int | None = None) -> Matched:
    """Teachers by the entry that names them, in one query (two when a staff number
    is shared); and the entries that name nobody.

    An entry names a teacher by username, by staff number, or by college code and
    staff number (``NORTH-0001``, the form new logins take). Each college numbers
    its own people: a staff number held in several colleges names no one teacher,
    unless exactly one of its holders registered for ``event_id``.
    """
    if not entries:
        return Matched({}, [], [])
    coded = {e: _coded(e) for e in entries}
    numbers = set(entries) | {n for _c, n in filter(None, coded.values())}
    rows = db.session.execute(
        select(User, Institution.code)
        .outerjoin(TeacherProfile, TeacherProfile.user_id == User.id)
        .outerjoin(Institution, Institution.id == TeacherProfile.institution_id)
        .where(
            or_(User.username.in_(entries), TeacherProfile.staff_number.in_(numbers))
        )
        .options(joinedload(User.teacher_profile))
    ).unique()
    holders: dict[str, list[tuple[User, str | None]]] = {}
    found: dict[str, User] = {}
    for user, code in rows:
        if user.username in coded:
            found[user.username] = user
        if (profile := user.teacher_profile) is not None:
            holders.setdefault(profile.staff_number, []).append((user, code))
    shared = [e for e in entries if e not in found and len(holders.get(e, ())) > 1]
    seated = _registered(event_id, [u.id for e in shared for u, _c in holders[e]])
    for entry in entries:
        if entry in found:
            continue
        named = [u for u, _c in holders.get(entry, ())]
        if len(named) > 1:
            named = [u for u in named if u.id in seated]
        if not named and (parts := coded[entry]) is not None:
            code, number = parts
            named = [u for u, c in holders.get(number, ()) if c and c.upper() == code]
        if len(named) == 1:
            found[entry] = named[0]
    unmatched = [e for e in entries if e not in found]
    ambiguous = [e for e in unmatched if len(holders.get(e, ())) > 1]
    return Matched(found, unmatched, ambiguous)


def _coded(entry: str) -> tuple[str, str] | None:
    """``CODE-number`` split at its first hyphen (the code upper-cased), or None."""
    code, dash, number = entry.partition("-")
    return (code.upper(), number) if dash and code and number else None


def _registered(event_id: int | None, teacher_ids: list[int]) -> set[int]:
    """Of these teachers, those registered for the event (seat or waiting list)."""
    if event_id is None or not teacher_ids:
        return set()
    return set(
        db.session.scalars(
            select(Registration.teacher_id).where(
                Registration.event_id == event_id,
                Registration.teacher_id.in_(teacher_ids),
                Registration.status != RegistrationStatus.CANCELLED.value,
            )
        )
    )


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
    found, unmatched, ambiguous = find_teachers(entries, event.id)
    unknown = [e for e in unmatched if e not in ambiguous]
    result = ListResult(unknown=unknown, ambiguous=ambiguous)
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
