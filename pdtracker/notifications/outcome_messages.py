"""Outcome notifications in words: what a person is told when something happened.

Each composer reads the payload its sender stored (keys below; every key is
optional and a missing one reads as empty) and words it in the current, forced
locale (:func:`delivery.recipient_context`). The payloads:

- activity_verified: title, starts_on, reviewer
- activity_rejected: title, starts_on, reviewer, reason
- placement_approved / _started: enterprise, starts_on, ends_on, mentor
- placement_completed: enterprise, starts_on, ends_on, days (credited)
- placement_cancelled: enterprise, starts_on, ends_on, reason
- waitlist_promoted, event_cancelled (+ reason), event_changed (+ previous_starts_at,
  previous_ends_at, previous_location): an event session as the reminders store it
  (title, starts_at, ends_at, location, online_url; all_day, first_day, last_day)
- attendance_credited: the session as above, credit (a number), unit ("hours" or
  "days"), activity_id (the credited activity, linked when present)
- recognition_result: level, level_en, granted (bool), reason, valid_until
- recognition_review_due: level, level_en, teacher, teacher_id, due_on
- recognition_suspended: level, level_en, teacher, teacher_id, reason
  (a copy to someone other than the teacher, a head, opens the teacher's page)
- placement_request_confirmed / _declined: enterprise, starts_on, ends_on, reason,
  placement_id (linked when present)

The object a notification is about (object_id) gives the link: the activity,
the placement, the event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from pdtracker.notifications.content import Content, Formatter, event_when
from pdtracker.notifications.models import NotificationKind

K = NotificationKind

# What each outcome kind is called on the preferences page.
OUTCOME_LABELS: dict[NotificationKind, Any] = {
    K.ACTIVITY_VERIFIED: _l("An activity of mine was verified"),
    K.ACTIVITY_REJECTED: _l("An activity of mine was sent back"),
    K.PLACEMENT_APPROVED: _l("My enterprise placement was approved"),
    K.PLACEMENT_STARTED: _l("My enterprise placement started"),
    K.PLACEMENT_COMPLETED: _l("My enterprise placement was completed and credited"),
    K.PLACEMENT_CANCELLED: _l("My enterprise placement was cancelled"),
    K.WAITLIST_PROMOTED: _l("I moved up from an event's waitlist"),
    K.ATTENDANCE_CREDITED: _l("My attendance at an event was credited"),
    K.EVENT_CHANGED: _l("An event I registered for changed time or place"),
    K.EVENT_CANCELLED: _l("An event I registered for was cancelled"),
    K.RECOGNITION_RESULT: _l("The result of a dual-qualified recognition"),
    K.RECOGNITION_REVIEW_DUE: _l("A dual-qualified recognition is due for review"),
    K.RECOGNITION_SUSPENDED: _l("A dual-qualified recognition was suspended"),
    K.PLACEMENT_REQUEST_CONFIRMED: _l("An enterprise confirmed my placement request"),
    K.PLACEMENT_REQUEST_DECLINED: _l("An enterprise declined my placement request"),
}


def _text(p: Mapping[str, Any], key: str) -> str:
    value = p.get(key)
    return "" if value is None else str(value)


Link = tuple[str, dict[str, Any]]


def _activity_link(p: Mapping[str, Any]) -> tuple[Link, str]:
    return ("activities.detail", {"activity_id": p.get("object_id")}), _(
        "Open the activity"
    )


def _placement_link(p: Mapping[str, Any]) -> tuple[Link, str]:
    return ("placements.detail", {"placement_id": p.get("object_id")}), _(
        "Open the placement"
    )


def _event_link(p: Mapping[str, Any]) -> tuple[Link, str]:
    return ("events.detail", {"event_id": p.get("object_id")}), _("Open the event")


def _span(p: Mapping[str, Any], fmt: Formatter) -> str:
    return _("The placement runs from %(start)s to %(end)s.",
             start=fmt.day(p.get("starts_on")), end=fmt.day(p.get("ends_on")))  # fmt: skip


def _reason(p: Mapping[str, Any]) -> list[str]:
    reason = _text(p, "reason").strip()
    return [_("Reason: %(reason)s", reason=reason)] if reason else []


# --- activities -------------------------------------------------------------------


def _activity_verified(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    lines = [
        _("Your activity “%(title)s” of %(day)s was verified and now counts.",
          title=_text(p, "title"), day=fmt.day(p.get("starts_on"))),
    ]  # fmt: skip
    if p.get("reviewer"):
        lines.append(_("Verified by %(name)s.", name=p["reviewer"]))
    return lines


def _activity_rejected(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("Your activity “%(title)s” of %(day)s was sent back and does not count yet.",
          title=_text(p, "title"), day=fmt.day(p.get("starts_on"))),
        *_reason(p),
        _("Change it and it goes back to your department head for review."),
    ]  # fmt: skip


# --- placements -------------------------------------------------------------------


def _placement_approved(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    lines = [
        _("Your enterprise placement at %(enterprise)s was approved.",
          enterprise=_text(p, "enterprise")),
        _span(p, fmt),
    ]  # fmt: skip
    if p.get("mentor"):
        lines.append(_("Enterprise mentor: %(mentor)s", mentor=p["mentor"]))
    return lines


def _placement_started(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("Your enterprise placement at %(enterprise)s is now under way.",
          enterprise=_text(p, "enterprise")),
        _span(p, fmt),
        _("Upload the final report when it ends; the days are credited then."),
    ]  # fmt: skip


def _placement_completed(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    days = int(p.get("days") or 0)
    return [
        _("Your enterprise placement at %(enterprise)s is completed.",
          enterprise=_text(p, "enterprise")),
        ngettext("%(num)s day was credited to your record as a verified activity.",
                 "%(num)s days were credited to your record as a verified activity.",
                 days),
    ]  # fmt: skip


def _placement_cancelled(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("Your enterprise placement at %(enterprise)s (%(start)s to %(end)s) was "
          "cancelled.", enterprise=_text(p, "enterprise"),
          start=fmt.day(p.get("starts_on")), end=fmt.day(p.get("ends_on"))),
        *_reason(p),
    ]  # fmt: skip


# --- events -----------------------------------------------------------------------


def _where(p: Mapping[str, Any]) -> list[str]:
    lines = []
    if p.get("location"):
        lines.append(_("Location: %(location)s", location=p["location"]))
    if p.get("online_url"):
        lines.append(_("Online: %(url)s", url=p["online_url"]))
    return lines


def _waitlist_promoted(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("A seat became free: you moved up from the waitlist and are now registered "
          "for %(title)s.", title=_text(p, "title")),
        event_when(p, fmt),
        *_where(p),
        _("If you can no longer come, cancel your registration so the next person "
          "gets the seat."),
    ]  # fmt: skip


def credit_text(p: Mapping[str, Any], locale: str) -> str:
    """The credit of an attendance, e.g. “1.5 hours”, in the reader's language."""
    try:
        amount = Decimal(str(p.get("credit") or 0))
    except InvalidOperation:
        amount = Decimal(0)
    number = format_decimal(amount, locale=locale)
    if p.get("unit") == "days":
        return ngettext("%(amount)s day", "%(amount)s days", int(amount) or 2,
                        amount=number)  # fmt: skip
    return ngettext("%(amount)s hour", "%(amount)s hours", 1 if amount == 1 else 2,
                    amount=number)  # fmt: skip


def _attendance_credited(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("Your attendance at %(title)s was recorded.", title=_text(p, "title")),
        event_when(p, fmt),
        _("%(credit)s were credited to your record as a verified activity.",
          credit=credit_text(p, fmt.locale)),
    ]  # fmt: skip
    if p.get("activity_id"):
        link = ("activities.detail", {"activity_id": p["activity_id"]})
        label = _("Open the activity")
    else:
        link, label = _event_link(p)
    return Content(
        _("Attendance credited: %(title)s", title=_text(p, "title")), lines, link, label
    )


def _event_changed(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    lines = [_("%(title)s, which you registered for, has changed.",
               title=_text(p, "title"))]  # fmt: skip
    if p.get("previous_starts_at") and p.get("previous_starts_at") != p.get(
        "starts_at"
    ):
        lines.append(_("It was to start %(start)s.",
                       start=fmt.when(p.get("previous_starts_at"))))  # fmt: skip
    lines.append(_("Now: %(when)s", when=event_when(p, fmt)))
    if p.get("previous_location") and p.get("previous_location") != p.get("location"):
        lines.append(_("Previous location: %(location)s",
                       location=p["previous_location"]))  # fmt: skip
    return lines + _where(p)


def _event_cancelled(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("%(title)s, which you registered for, was cancelled.",
          title=_text(p, "title")),
        _("It was to take place: %(when)s", when=event_when(p, fmt)),
        *_reason(p),
    ]  # fmt: skip


# --- recognition ------------------------------------------------------------------


def _level(p: Mapping[str, Any], fmt: Formatter) -> str:
    english = _text(p, "level_en") if fmt.locale.startswith("en") else ""
    return english or _text(p, "level")


def _progress_link(p: Mapping[str, Any]) -> tuple[Link, str]:
    """The teacher's own progress, or for a head's copy that teacher's page."""
    teacher_id = p.get("teacher_id")
    if teacher_id is not None and teacher_id != p.get("recipient_id"):
        return ("progress.teacher", {"teacher_id": teacher_id}), _(
            "Open the teacher's progress"
        )
    return ("progress.dashboard", {}), _("Open my progress")


def _recognition_result(p: Mapping[str, Any], fmt: Formatter) -> Content:
    level = _level(p, fmt)
    if p.get("granted"):
        lines = [_("You were recognised as %(level)s.", level=level)]
        if p.get("valid_until"):
            lines.append(_("The recognition is valid until %(day)s.",
                           day=fmt.day(p.get("valid_until"))))  # fmt: skip
        subject = _("Recognised: %(level)s", level=level)
    else:
        lines = [_("Your application to be recognised as %(level)s was not granted.",
                   level=level), *_reason(p)]  # fmt: skip
        subject = _("Recognition not granted: %(level)s", level=level)
    return Content(subject, lines, ("recognition.index", {}), _("Open my recognitions"))


def _recognition_review_due(p: Mapping[str, Any], fmt: Formatter) -> Content:
    level = _level(p, fmt)
    lines = [
        _("The recognition of %(teacher)s as %(level)s is due for review on %(day)s.",
          teacher=_text(p, "teacher"), level=level, day=fmt.day(p.get("due_on"))),
    ]  # fmt: skip
    return Content(
        _("Recognition review due: %(level)s", level=level),
        lines,
        *_progress_link(p),
    )


def _recognition_suspended(p: Mapping[str, Any], fmt: Formatter) -> Content:
    level = _level(p, fmt)
    lines = [
        _("The recognition of %(teacher)s as %(level)s was suspended.",
          teacher=_text(p, "teacher"), level=level),
        *_reason(p),
    ]  # fmt: skip
    return Content(
        _("Recognition suspended: %(level)s", level=level),
        lines,
        *_progress_link(p),
    )


# --- placement requests -----------------------------------------------------------


def _request_link(p: Mapping[str, Any]) -> tuple[Link | None, str]:
    """The placement a confirmed request made, when there is one."""
    if not p.get("placement_id"):
        return None, ""
    return ("placements.detail", {"placement_id": p["placement_id"]}), _(
        "Open the placement"
    )


def _request_confirmed(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("%(enterprise)s confirmed your placement request.",
          enterprise=_text(p, "enterprise")),
        _span(p, fmt),
    ]  # fmt: skip


def _request_declined(p: Mapping[str, Any], fmt: Formatter) -> list[str]:
    return [
        _("%(enterprise)s declined your placement request (%(start)s to %(end)s).",
          enterprise=_text(p, "enterprise"), start=fmt.day(p.get("starts_on")),
          end=fmt.day(p.get("ends_on"))),
        *_reason(p),
    ]  # fmt: skip


@dataclass(frozen=True)
class _Outcome:
    """One kind in words: a subject naming one payload field, its lines, its link."""

    subject: Any  # a lazy msgid with the one placeholder ``about``
    about: str
    lines: Callable[[Mapping[str, Any], Formatter], list[str]]
    link: Callable[[Mapping[str, Any]], tuple[Link | None, str]]

    def __call__(self, p: Mapping[str, Any], fmt: Formatter) -> Content:
        link, label = self.link(p)
        subject = str(self.subject) % {self.about: _text(p, self.about)}
        return Content(subject, self.lines(p, fmt), link, label)


Composer = Callable[[Mapping[str, Any], Formatter], Content]

OUTCOME_COMPOSERS: dict[NotificationKind, Composer] = {
    K.ACTIVITY_VERIFIED: _Outcome(_l("Activity verified: %(title)s"), "title",
                                  _activity_verified, _activity_link),
    K.ACTIVITY_REJECTED: _Outcome(_l("Activity sent back: %(title)s"), "title",
                                  _activity_rejected, _activity_link),
    K.PLACEMENT_APPROVED: _Outcome(_l("Placement approved: %(enterprise)s"),
                                   "enterprise", _placement_approved, _placement_link),
    K.PLACEMENT_STARTED: _Outcome(_l("Placement started: %(enterprise)s"),
                                  "enterprise", _placement_started, _placement_link),
    K.PLACEMENT_COMPLETED: _Outcome(_l("Placement completed: %(enterprise)s"),
                                    "enterprise", _placement_completed,
                                    _placement_link),
    K.PLACEMENT_CANCELLED: _Outcome(_l("Placement cancelled: %(enterprise)s"),
                                    "enterprise", _placement_cancelled,
                                    _placement_link),
    K.WAITLIST_PROMOTED: _Outcome(_l("You have a seat: %(title)s"), "title",
                                  _waitlist_promoted, _event_link),
    K.ATTENDANCE_CREDITED: _attendance_credited,
    K.EVENT_CHANGED: _Outcome(_l("Changed: %(title)s"), "title", _event_changed,
                              _event_link),
    K.EVENT_CANCELLED: _Outcome(_l("Cancelled: %(title)s"), "title",
                                _event_cancelled, _event_link),
    K.RECOGNITION_RESULT: _recognition_result,
    K.RECOGNITION_REVIEW_DUE: _recognition_review_due,
    K.RECOGNITION_SUSPENDED: _recognition_suspended,
    K.PLACEMENT_REQUEST_CONFIRMED: _Outcome(
        _l("Placement request confirmed: %(enterprise)s"), "enterprise",
        _request_confirmed, _request_link,
    ),
    K.PLACEMENT_REQUEST_DECLINED: _Outcome(
        _l("Placement request declined: %(enterprise)s"), "enterprise",
        _request_declined, _request_link,
    ),
}  # fmt: skip
