"""What the event pages say for a code: refusals, statuses, import skips and failures.

Services and the import raise or report stable codes; these tables word them in the
user's language (lazy strings, looked up when the page is drawn).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ERROR_MESSAGES = {
    "not_open": _l("This event is not open for registration."),
    "closed": _l("Registration for this event has closed."),
    "already_registered": _l("You are already registered for this event."),
    "not_registered": _l("You are not registered for this event."),
    "started": _l(
        "The event has started; the registration can no longer be cancelled."
    ),
    "registration_cancelled": _l("This registration was cancelled."),
    "not_started": _l("Attendance can be marked once the event has started."),
    "cancelled": _l("This event is cancelled."),
    "not_draft": _l("Only a draft can be published."),
    "waitlisted": _l(
        "This teacher is on the waiting list and has no seat: attendance cannot be"
        " marked."
    ),
    "not_imported": _l(
        "Only imported events can be deleted; cancel an event created here instead."
    ),
    "has_attendance": _l(
        "Attendance was recorded for this event, so it cannot be deleted."
    ),
    "no_session": _l("This event has no such session."),
    "session_cancelled": _l("This session is cancelled."),
    "not_cancelled": _l("This session is not cancelled."),
    "not_series": _l("Only a session of a repeating event can be moved on its own."),
    "end_before_start": _l("The end is before the start."),
    "walk_ins_not_allowed": _l(
        "This event does not accept walk-ins: register before the session."
    ),
    "over": _l("This session is over."),
    "full": _l("This session is full."),
    "has_registrations": _l(
        "Teachers are registered for this event. Cancel it first so they see the"
        " cancellation; then it can be deleted."
    ),
}
REGISTRATION_LABELS = {
    "registered": _l("Registered"),
    "waitlisted": _l("Waiting list"),
    "cancelled": _l("Cancelled"),
    "attended": _l("Attended"),
}
# Why an event or a whole import was skipped (codes from the parser, the fetcher, us).
IMPORT_MESSAGES = {
    "missing_uid": _l("The event has no UID."),
    "bad_uid": _l("The event's UID is invalid."),
    "missing_dtstart": _l("The event has no start."),
    "bad_dtstart": _l("The event's start is invalid."),
    "bad_dtend": _l("The event's end is invalid."),
    "end_before_start": _l("The event ends before it starts."),
    "bad_recurrence_id": _l("The event's RECURRENCE-ID is invalid."),
    "bad_rrule": _l("The event's recurrence rule is invalid or unsupported."),
    "too_many_instances": _l("The event repeats too often."),
    "duplicate_uid": _l("Another event in the file has the same UID."),
    "broken_property": _l("A property of the event is broken."),
    "unsupported_component": _l("Only events (VEVENT) are imported."),
    "local_uid": _l("The UID belongs to an event created here."),
    "reserved_uid": _l("The UID is reserved for events created here."),
    "invalid": _l("The event's data is invalid."),
    "too_large": _l("The calendar is too large."),
    "undecodable": _l("The file is neither UTF-8 nor GB18030 text."),
    "not_a_calendar": _l("This is not an iCalendar file."),
    "too_many_components": _l("The calendar has too many entries."),
    "too_slow": _l(
        "The calendar took too long to process (for example, too many complex"
        " recurrence rules)."
    ),
    "bad_url": _l("The URL is not valid."),
    "bad_scheme": _l("Only https:// and webcal:// addresses can be imported."),
    "dns_failed": _l("The calendar's host name could not be resolved."),
    "blocked_address": _l(
        "The address is in a private or local network; an administrator must allow it."
    ),
    "connection_failed": _l("The calendar's server could not be reached."),
    "tls_error": _l("The calendar's server has no valid https certificate."),
    "timeout": _l("The calendar's server took too long to answer."),
    "too_many_redirects": _l("The calendar's address redirects too often."),
    "http_status": _l("The calendar's server answered with an error."),
}
FETCH_FALLBACK = _l("The calendar could not be fetched.")
EVENT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
}


def reason_message(code: str) -> str:
    """The translated text for an import skip or failure code."""
    return str(IMPORT_MESSAGES.get(code, FETCH_FALLBACK))


def refusal_message(code: str) -> str:
    """The translated text for a refused operation's code (the code itself if unknown)."""
    return str(ERROR_MESSAGES.get(code, code))
