"""What the check-in pages say for a refusal code, in the user's language."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone

from pdtracker.checkin.marking import ListResult
from pdtracker.events.display import instant
from pdtracker.events.messages import ERROR_MESSAGES as EVENT_MESSAGES
from pdtracker.events.sessions import SessionInfo
from pdtracker.i18n import time_format

MESSAGES = {
    "forged": _l(
        "This check-in code is not valid. Scan the code on the screen at the door"
        " again."
    ),
    "expired": _l(
        "This check-in code has expired: the code at the door changes every 30"
        " seconds. Scan it again."
    ),
    "wrong_session": _l(
        "This code is for another session. Scan the code shown for this session."
    ),
    "other_session": _l(
        "This code is for the session of %(when)s, and you are registered for other"
        " sessions of this series, not this one. Ask the staff at the door."
    ),
    "unknown_session": _l(
        "This session no longer exists (it may have been moved or cancelled). Ask"
        " the staff at the door."
    ),
    "session_cancelled": _l("This session is cancelled."),
    "cancelled": _l("This event is cancelled."),
    "too_early": _l(
        "Check-in has not opened yet: it opens at %(opens_at)s, 30 minutes before the"
        " session starts."
    ),
    "too_late": _l("This session has ended: check-in is closed."),
    "not_registered": _l(
        "You are not registered for this session, and this event takes no walk-ins."
        " Ask the staff at the door."
    ),
    "waitlisted": _l(
        "You are on the waiting list for this session and have no seat. Ask the staff"
        " at the door."
    ),
    "full": _l(
        "This session is full: there is no seat left for a walk-in. Ask the staff at"
        " the door."
    ),
    "not_teacher": _l(
        "Only teachers check in. Staff mark attendance on the registration list."
    ),
}
FALLBACK = _l("Check-in is not possible. Ask the staff at the door.")


def refusal_message(code: str, details: dict[str, Any] | None = None) -> str:
    """The translated refusal for ``code``, with the times it names filled in."""
    values: defaultdict[str, Any] = defaultdict(str)
    for name, value in (details or {}).items():
        values[name] = instant(value) if isinstance(value, datetime) else value
    return str(MESSAGES.get(code, FALLBACK)) % values


def session_when(session: SessionInfo) -> str:
    """ "12 Mar 2026 14:00 – 16:00" in the user's zone (both ends when days differ)."""
    starts, ends = session.starts_at, session.ends_at
    if to_user_timezone(starts).date() == to_user_timezone(ends).date():
        return instant(starts) + " – " + time_format(ends, "short")
    return instant(starts) + " – " + instant(ends)


def staff_refusal(code: str) -> str:
    """Why staff could not mark a teacher (the events area's words, else ours)."""
    return str(EVENT_MESSAGES.get(code) or MESSAGES.get(code) or FALLBACK)


def flash_list_result(result: ListResult) -> None:
    """Say what marking from a list did: counts, then each refusal and the unknown."""
    flash(
        _(
            "%(marked)d marked as attended, %(already)d already marked.",
            marked=len(result.marked),
            already=len(result.already),
        ),
        "success" if result.marked else "info",
    )
    for teacher, code in result.refused:
        flash(
            f"{teacher.display_name} ({teacher.username}): {staff_refusal(code)}",
            "warning",
        )
    if result.unknown:
        flash(
            _(
                "No teacher has these usernames or staff numbers: %(entries)s",
                entries=", ".join(result.unknown),
            ),
            "warning",
        )
    if result.ambiguous:
        flash(
            _(
                "Teachers of several colleges have these staff numbers; write the "
                "college code and the number (CODE-0001) or the username instead: "
                "%(entries)s",
                entries=", ".join(result.ambiguous),
            ),
            "warning",
        )
