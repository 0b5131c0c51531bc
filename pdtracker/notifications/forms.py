"""The notification preferences form: one channel per kind the user can receive."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from pdtracker.auth.models import Role
from pdtracker.notifications.delivery import KIND_LABELS
from pdtracker.notifications.models import Channel, NotificationKind

K = NotificationKind

CHANNEL_LABELS = {
    Channel.EMAIL_AND_APP: _l("E-mail and in-app"),
    Channel.APP_ONLY: _l("In-app only"),
    Channel.OFF: _l("Off"),
}

# Who can receive each kind; the form shows only these.
AUDIENCE: dict[NotificationKind, tuple[Role, ...]] = {
    K.EVENT_TOMORROW: (Role.TEACHER,),
    K.REGISTRATION_DEADLINE: (Role.TEACHER,),
    K.PLACEMENT_STARTING: (Role.TEACHER, Role.HEAD),
    K.PLACEMENT_REPORT_DUE: (Role.TEACHER, Role.HEAD),
    K.VERIFICATION_DIGEST: (Role.HEAD,),
    K.LAPSE_WARNING: (Role.TEACHER, Role.HEAD),
    K.DEPARTMENT_DIGEST: (Role.HEAD,),
    K.FEED_FAILED: (Role.ADMIN,),
    K.ACTIVITY_VERIFIED: (Role.TEACHER,),
    K.ACTIVITY_REJECTED: (Role.TEACHER,),
    K.PLACEMENT_APPROVED: (Role.TEACHER,),
    K.PLACEMENT_STARTED: (Role.TEACHER,),
    K.PLACEMENT_COMPLETED: (Role.TEACHER,),
    K.PLACEMENT_CANCELLED: (Role.TEACHER,),
    K.WAITLIST_PROMOTED: (Role.TEACHER,),
    K.ATTENDANCE_CREDITED: (Role.TEACHER,),
    K.EVENT_CHANGED: (Role.TEACHER,),
    K.EVENT_CANCELLED: (Role.TEACHER,),
    K.RECOGNITION_RESULT: (Role.TEACHER,),
    K.RECOGNITION_REVIEW_DUE: (Role.TEACHER, Role.HEAD, Role.COLLEGE_ADMIN),
    K.RECOGNITION_SUSPENDED: (Role.TEACHER, Role.HEAD, Role.COLLEGE_ADMIN),
    K.PLACEMENT_REQUEST_CONFIRMED: (Role.TEACHER,),
    K.PLACEMENT_REQUEST_DECLINED: (Role.TEACHER,),
}


def _channel_field(kind: NotificationKind) -> SelectField:
    return SelectField(
        KIND_LABELS[kind],
        choices=[SelectChoice(c.value, CHANNEL_LABELS[c]) for c in Channel],
        default=Channel.EMAIL_AND_APP.value,
    )


class PreferencesForm(FlaskForm):
    """How each kind of notification reaches the user."""

    event_tomorrow = _channel_field(K.EVENT_TOMORROW)
    registration_deadline = _channel_field(K.REGISTRATION_DEADLINE)
    placement_starting = _channel_field(K.PLACEMENT_STARTING)
    placement_report_due = _channel_field(K.PLACEMENT_REPORT_DUE)
    verification_digest = _channel_field(K.VERIFICATION_DIGEST)
    lapse_warning = _channel_field(K.LAPSE_WARNING)
    department_digest = _channel_field(K.DEPARTMENT_DIGEST)
    feed_failed = _channel_field(K.FEED_FAILED)
    activity_verified = _channel_field(K.ACTIVITY_VERIFIED)
    activity_rejected = _channel_field(K.ACTIVITY_REJECTED)
    placement_approved = _channel_field(K.PLACEMENT_APPROVED)
    placement_started = _channel_field(K.PLACEMENT_STARTED)
    placement_completed = _channel_field(K.PLACEMENT_COMPLETED)
    placement_cancelled = _channel_field(K.PLACEMENT_CANCELLED)
    waitlist_promoted = _channel_field(K.WAITLIST_PROMOTED)
    attendance_credited = _channel_field(K.ATTENDANCE_CREDITED)
    event_changed = _channel_field(K.EVENT_CHANGED)
    event_cancelled = _channel_field(K.EVENT_CANCELLED)
    recognition_result = _channel_field(K.RECOGNITION_RESULT)
    recognition_review_due = _channel_field(K.RECOGNITION_REVIEW_DUE)
    recognition_suspended = _channel_field(K.RECOGNITION_SUSPENDED)
    placement_request_confirmed = _channel_field(K.PLACEMENT_REQUEST_CONFIRMED)
    placement_request_declined = _channel_field(K.PLACEMENT_REQUEST_DECLINED)

    def __init__(
        self, *, roles: frozenset[Role], current: Mapping[NotificationKind, Channel],
        **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        # Kinds without an audience (password-reset links) are not a choice.
        self.kinds = [k for k in AUDIENCE if roles.intersection(AUDIENCE[k])]
        for kind in AUDIENCE:
            if kind not in self.kinds:
                del self[kind.value]
            elif not self.is_submitted():
                self[kind.value].data = current[kind].value

    def choices(self) -> dict[NotificationKind, Channel]:
        """The submitted channel of every shown kind."""
        return {kind: Channel(self[kind.value].data) for kind in self.kinds}
