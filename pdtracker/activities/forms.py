"""Activity forms: one form whose fields follow the kind, evidence upload, review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional
from wtforms.widgets import Select

from pdtracker.activities.evidence import UploadRejected, check_upload
from pdtracker.activities.models import (
    ActivityKind,
    ActivityRole,
    ActivityStatus,
    CertificateGrade,
    CreditUnit,
    OrganizerLevel,
)
from pdtracker.activities.services import REASON_MAX, ActivityFields
from pdtracker.caching import LRU
from pdtracker.navigation import STATUS_LABELS
from pdtracker.placements.models import Enterprise

ROLE_LABELS = {
    ActivityRole.ATTENDEE: _l("Attendee"),
    ActivityRole.SPEAKER: _l("Speaker"),
    ActivityRole.ORGANIZER: _l("Organizer"),
}
GRADE_LABELS = {
    CertificateGrade.PRIMARY: _l("Primary"),
    CertificateGrade.INTERMEDIATE: _l("Intermediate"),
    CertificateGrade.SENIOR: _l("Senior"),
}
ORGANIZER_LEVEL_LABELS = {
    OrganizerLevel.DISTRICT: _l("District or county"),
    OrganizerLevel.CITY: _l("City"),
    OrganizerLevel.PROVINCE: _l("Province"),
    OrganizerLevel.NATIONAL: _l("National"),
    OrganizerLevel.ABROAD: _l("Abroad"),
}
UPLOAD_MESSAGES = {
    "empty": _l("The file is empty."),
    "too_large": _l("The file is too large: evidence files can be at most %(mib)d MB."),
    "bad_type": _l(
        "This file is not a PDF, JPEG or PNG file. Only these types are accepted, "
        "whatever the file's name says."
    ),
}
TITLE_MAX = 200
TEXT_MAX = 200
NOTES_MAX = 5000
ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def _optional_int(value: str | int | None) -> int | None:
    return int(value) if value not in (None, "", "None") else None


def _optional_str(value: object) -> str | None:
    return str(value) if value not in (None, "", "None") else None


def upload_message(code: str) -> str:
    """The user's message for an upload rejection code."""
    mib = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    return str(UPLOAD_MESSAGES[code]) % {"mib": mib}


def upload_hint() -> str:
    """What the upload field accepts, with the configured size limit."""
    mib = current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)
    return str(_l("PDF, JPEG or PNG, at most %(mib)d MB.", mib=mib))


def validate_upload(field: FileField) -> bool:
    """Check an optional upload's size and content type; add the error to the field."""
    upload = field.data
    if not upload or not getattr(upload, "filename", None):
        field.data = None
        return True
    try:
        check_upload(upload.stream, current_app.config["EVIDENCE_MAX_BYTES"])
    except UploadRejected as exc:
        field.errors.append(upload_message(exc.code))
        return False
    return True


class ActivityForm(FlaskForm):
    """Log or edit an activity; rows carry data-for-unit so the page shows what fits."""

    kind_code = SelectField(_l("Kind"), validators=[DataRequired()])
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(),
            Length(
                max=TITLE_MAX,
                message=_l(
                    "The title can have at most %(max)d characters; "
                    "this one has %(length)d."
                ),
            ),
        ],
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(s.value, STATUS_LABELS[s.value])
            for s in (ActivityStatus.COMPLETED, ActivityStatus.PLANNED)
        ],
        default=ActivityStatus.COMPLETED.value,
    )
    role = SelectField(
        _l("My role"),
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        default=ActivityRole.ATTENDEE.value,
    )
    enterprise_id = SelectField(_l("Host enterprise"), coerce=_optional_int)
    organizer = StringField(
        _l("Organizer or host"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        description=_l("For an enterprise not in the list, type its name here."),
    )
    organizer_level = SelectField(
        _l("Organizer level"),
        choices=[
            SelectChoice("", _l("Not stated")),
            *(
                SelectChoice(lv.value, label)
                for lv, label in ORGANIZER_LEVEL_LABELS.items()
            ),
        ],
        default="",
        # Not stated is stored as NULL: a form loaded from such a row has no choice.
        validate_choice=False,
        validators=[Optional(), AnyOf(["", *(lv.value for lv in OrganizerLevel)])],
    )
    location = StringField(
        _l("Location"), validators=[Optional(), Length(max=TEXT_MAX)]
    )
    starts_on = DateField(_l("Start date"), validators=[DataRequired()])
    ends_on = DateField(
        _l("End date"),
        validators=[Optional()],
        description=_l("For a certificate: its expiry date, if it has one."),
    )
    start_time = TimeField(_l("Start time"), validators=[Optional()])
    end_time = TimeField(_l("End time"), validators=[Optional()])
    hours = DecimalField(
        _l("Hours"),
        places=1,
        validators=[
            Optional(),
            NumberRange(
                min=0, max=9999, message=_l("Hours must be between 0 and 9999.")
            ),
        ],
    )
    days = IntegerField(
        _l("Credited days"),
        validators=[
            Optional(),
            NumberRange(
                min=0, max=3660, message=_l("Days must be between 0 and 3660.")
            ),
        ],
        description=_l("Left empty, the days from start to end date are credited."),
    )
    grade = SelectField(
        _l("Certificate grade"),
        coerce=_optional_str,
        choices=[SelectChoice("", "—")]
        + [SelectChoice(g.value, label) for g, label in GRADE_LABELS.items()],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=NOTES_MAX)])
    evidence = FileField(_l("Evidence file"), render_kw={"accept": ACCEPT})
    # "Save anyway": the ids of the already credited lookalikes the teacher was
    # shown (activities/duplicates.py); empty until a warning was shown.
    save_anyway = HiddenField(validators=[Optional(), Length(max=200)])

    def __init__(
        self,
        *args,
        kinds: Sequence[ActivityKind],
        enterprises: Sequence[Enterprise],
        locale: str,
        today: date,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.today = today  # the teacher's today: completed activities end by then
        self.evidence.description = upload_hint()
        self.kinds = {k.code: k for k in kinds}
        self.kind_code.choices = [
            SelectChoice(k.code, k.label(locale), render_kw={"data-unit": k.unit})
            for k in kinds
        ]
        self.enterprise_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(e.id), e.name) for e in enterprises
        ]
        # Which kinds' rows each field belongs to (read by static/js/app.js).
        self.field_units = {
            "hours": CreditUnit.HOURS.value,
            "start_time": CreditUnit.HOURS.value,
            "end_time": CreditUnit.HOURS.value,
            "days": CreditUnit.DAYS.value,
            "grade": " ".join(k.code for k in kinds if k.has_grade),
            "enterprise_id": " ".join(k.code for k in kinds if k.has_enterprise),
        }

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the rules that depend on the kind and on other fields."""
        super().validate(extra_validators)
        validate_upload(self.evidence)
        kind = self.kinds.get(self.kind_code.data or "")
        if kind is not None:
            self._drop_hidden_fields(kind)
            self._validate_for_kind(kind)
            self._validate_not_ahead(kind)
        self._validate_order()
        return not any(field.errors for field in self)

    def _drop_hidden_fields(self, kind: ActivityKind) -> None:
        """Fields the kind does not use were hidden: forget what they held, errors too."""
        for name, wanted in self.field_units.items():
            if kind.unit not in wanted.split() and kind.code not in wanted.split():
                self[name].data = None
                self[name].errors = []

    def _validate_for_kind(self, kind: ActivityKind) -> None:
        hours = self.hours
        if kind.unit == CreditUnit.HOURS and hours.data is None and not hours.errors:
            hours.errors.append(_l("Enter the hours for this kind of activity."))
        if kind.has_grade and not self.grade.data:
            self.grade.errors.append(_l("Choose the certificate's grade."))
        host = self.enterprise_id.data or (self.organizer.data or "").strip()
        if kind.unit == CreditUnit.DAYS and not host:
            self.enterprise_id.errors.append(
                _l("Choose the host enterprise, or type its name under Organizer.")
            )

    def _validate_not_ahead(self, kind: ActivityKind) -> None:
        """What is marked completed cannot end after today (a certificate: start)."""
        # Without the status field (a rejected activity's edit) it is saved completed.
        status = (
            self.status.data
            if self.status is not None
            else ActivityStatus.COMPLETED.value
        )
        if status != ActivityStatus.COMPLETED.value:
            return
        # A certificate's end date is its expiry, which normally lies ahead.
        use_start = kind.has_grade or not self.ends_on.data
        field = self.starts_on if use_start else self.ends_on
        if field.data and field.data > self.today:
            field.errors.append(
                _l(
                    "A completed activity cannot end in the future. "
                    "Correct the date, or mark the activity as planned."
                )
            )

    def _validate_order(self) -> None:
        start, end = self.starts_on.data, self.ends_on.data
        if start and end and end < start:
            self.ends_on.errors.append(_l("The end date is before the start date."))
        same_day = start is not None and (end is None or end == start)
        t0, t1 = self.start_time.data, self.end_time.data
        if same_day and t0 and t1 and t1 < t0:
            self.end_time.errors.append(_l("The end time is before the start time."))

    def to_fields(self, *, status: str | None = None) -> ActivityFields:
        """The validated input as service arguments."""
        hours = self.hours.data
        if hours is not None:
            hours = Decimal(hours).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return ActivityFields(
            kind_code=self.kind_code.data,
            title=self.title.data.strip(),
            status=status or self.status.data,
            role=self.role.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            hours=hours,
            days=self.days.data,
            grade=self.grade.data or None,
            enterprise_id=self.enterprise_id.data,
            organizer=_clean(self.organizer.data),
            organizer_level=self.organizer_level.data or None,
            location=_clean(self.location.data),
            notes=_clean(self.notes.data),
        )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class EvidenceForm(FlaskForm):
    """Upload one more evidence file to an activity."""

    evidence = FileField(_l("Evidence file"), render_kw={"accept": ACCEPT})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.evidence.description = upload_hint()

    def validate(self, extra_validators=None) -> bool:
        """A file is required here, and must pass the size and type checks."""
        ok = super().validate(extra_validators)
        if not self.evidence.data or not getattr(self.evidence.data, "filename", None):
            self.evidence.errors.append(_l("Choose a file to upload."))
            return False
        return validate_upload(self.evidence) and ok


class RejectForm(FlaskForm):
    """A head's reason for sending an activity back."""

    reason = TextAreaField(
        _l("Reason for rejection"),
        validators=[
            DataRequired(message=_l("Give the teacher a reason.")),
            Length(
                max=REASON_MAX,
                message=_l("The reason can have at most %(max)d characters."),
            ),
        ],
    )


class RememberedSelect(Select):
    """A select whose HTML is worked out once per name, options and choice.

    The activity list renders the same three filters on every request; their HTML
    depends only on what is in the key (the labels as text, so the language too).
    """

    _html: LRU[tuple, Markup] = LRU(1024)

    def __call__(self, field, **kwargs) -> Markup:
        choices = tuple(field.iter_choices())
        if field.flags.required or any(choice[3] for choice in choices):
            return super().__call__(field, **kwargs)
        key = (
            field.name,
            field.id,
            tuple(sorted(kwargs.items())),
            tuple(
                (value, str(label), selected) for value, label, selected, _ in choices
            ),
        )
        html = self._html.get(key)
        if html is None:
            html = super().__call__(field, **kwargs)
            self._html.put(key, html)
        return html


class FilterForm(FlaskForm):
    """Filters of the activity list (a GET form, without CSRF)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False, widget=RememberedSelect())
    status = SelectField(_l("Status"), validate_choice=False, widget=RememberedSelect())
    year = SelectField(_l("Year"), validate_choice=False, widget=RememberedSelect())

    def __init__(
        self,
        *args,
        kinds: Sequence[ActivityKind],
        years: Sequence[int],
        locale: str,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        every = SelectChoice("", _l("All"))
        self.kind.choices = [every] + [
            SelectChoice(k.code, k.label(locale)) for k in kinds
        ]
        self.status.choices = [every] + [
            SelectChoice(s.value, STATUS_LABELS[s.value]) for s in ActivityStatus
        ]
        self.year.choices = [every] + [SelectChoice(str(y), str(y)) for y in years]
        self._kind_codes = {k.code for k in kinds}

    def filters(self) -> dict:
        """Valid filter values only; anything else is ignored."""
        kind = self.kind.data if self.kind.data in self._kind_codes else None
        status = self.status.data if self.status.data in set(ActivityStatus) else None
        year = self.year.data
        year = (
            int(year) if year and year.isdigit() and 1900 < int(year) < 3000 else None
        )
        return {"kind_code": kind, "status": status, "year": year}
