"""Event editing and calendar import forms."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from pdtracker.activities.models import ActivityKind
from pdtracker.events.models import DEFAULT_TZID, EVENT_KINDS, Event
from pdtracker.events.occurrences import MAX_SESSIONS
from pdtracker.events.recurrence import RecurrenceError, normalise_rrule
from pdtracker.events.rulespec import (
    ENDS,
    FREQS,
    MONTHLY_MODES,
    RuleSpec,
    build_rrule,
    parse_rrule,
)
from pdtracker.events.services import EventData
from pdtracker.extensions import db
from pdtracker.form_fields import blank_to_none

# Months the event list accepts in ?month=YYYY-MM.
MIN_YEAR, MAX_YEAR = 1900, 9998

WEEKDAY_NAMES = (
    _l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
    _l("Saturday"), _l("Sunday"),
)  # fmt: skip
TIMEZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "UTC")
IMPORT_MAX_BYTES = 5 * 1024 * 1024

RECURRENCE_MESSAGES = {
    "malformed": _l("The recurrence rule is not a valid RRULE."),
    "bad_freq": _l("The recurrence must repeat daily, weekly, monthly or yearly."),
    "count_and_until": _l("Give either COUNT or UNTIL in the recurrence, not both."),
    "bad_until": _l("UNTIL in the recurrence is not a valid date."),
    "too_many": _l("The recurrence has too many occurrences."),
    "no_occurrences": _l("The recurrence produces no occurrence."),
}


def kind_choices() -> list[SelectChoice]:
    """The event kinds with labels in the user's language."""
    locale = str(get_locale() or "zh")
    kinds = db.session.scalars(
        select(ActivityKind)
        .where(ActivityKind.code.in_(EVENT_KINDS))
        .order_by(ActivityKind.sort_order)
    )
    return [SelectChoice(k.code, k.label(locale)) for k in kinds]


class EventForm(FlaskForm):
    """An event's details; dates and times are local to the chosen time zone."""

    kind_code = SelectField(_l("Kind"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=10_000)]
    )
    speakers = StringField(_l("Speakers"), validators=[Optional(), Length(max=500)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=500)])
    online_url = URLField(
        _l("Online link"), validators=[Optional(), URL(), Length(max=2000)]
    )
    tzid = SelectField(
        _l("Time zone"),
        choices=[SelectChoice(z, z) for z in TIMEZONES],
        default=DEFAULT_TZID,
    )
    is_all_day = BooleanField(_l("All-day event"))
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    start_time = TimeField(
        _l("Start time"),
        validators=[Optional()],
        description=_l("Leave empty for an all-day event."),
    )
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    end_time = TimeField(_l("End time"), validators=[Optional()])
    capacity = IntegerField(
        _l("Capacity"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty for no limit."),
    )
    registration_deadline = DateTimeLocalField(
        _l("Registration deadline"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Leave empty to accept registrations until the start."),
    )
    credited_hours = DecimalField(
        _l("Credited hours"),
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
        description=_l("Hours credited to each teacher who attends."),
    )
    repeat = SelectField(
        _l("Repeat"),
        choices=[
            SelectChoice("", _l("Does not repeat")),
            SelectChoice("daily", _l("Daily")),
            SelectChoice("weekly", _l("Weekly")),
            SelectChoice("monthly", _l("Monthly")),
        ],
        default="",
    )
    interval = IntegerField(
        _l("Every"),
        validators=[Optional(), NumberRange(min=1, max=52)],
        default=1,
        description=_l("1 = every day, week or month; 2 = every other one …"),
    )
    weekdays = SelectMultipleField(
        _l("On these weekdays"),
        choices=[SelectChoice(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)],
        validators=[Optional()],
        description=_l("Weekly series; none chosen means the start's weekday."),
    )
    monthly = SelectField(
        _l("Monthly on"),
        choices=[
            SelectChoice("date", _l("the start's date (e.g. the 10th)")),
            SelectChoice("weekday", _l("the start's weekday (e.g. the 2nd Tuesday)")),
        ],
        default="date",
    )
    ends = SelectField(
        _l("Ends"),
        choices=[
            SelectChoice("count", _l("after a number of sessions")),
            SelectChoice("until", _l("on a date")),
        ],
        default="count",
    )
    count = IntegerField(
        _l("Number of sessions"),
        validators=[Optional(), NumberRange(min=1, max=MAX_SESSIONS)],
    )
    until = DateField(_l("Last date"), validators=[Optional()])
    exdates = TextAreaField(
        _l("Skipped dates"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Dates without a session, one per line (YYYY-MM-DD)."),
    )

    allow_walk_ins = BooleanField(
        _l("Accept walk-ins"),
        description=_l(
            "Teachers who come without registering are registered when they check in."
        ),
    )

    def __init__(self, *args: Any, kept_rule: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind_code.choices = kind_choices()
        # A rule the form cannot show (imported): kept as it is, shown read-only.
        self.kept_rule = kept_rule
        if kept_rule:
            self.repeat.choices = [
                *self.repeat.choices,
                SelectChoice("keep", _l("Keep the imported rule")),
            ]
        self.event_data: EventData | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then the schedule as a whole."""
        if not super().validate(extra_validators):
            return False
        try:
            self.event_data = self._build()
        except _FieldError as exc:
            exc.field.errors.append(exc.message)
            return False
        return True

    def _build(self) -> EventData:
        zone = ZoneInfo(self.tzid.data)
        all_day = bool(self.is_all_day.data)
        start_day, end_day = self.start_date.data, self.end_date.data
        if end_day < start_day:
            raise _FieldError(self.end_date, _l("The end is before the start."))
        if all_day:
            times: dict[str, Any] = {
                "start_on": start_day,
                "end_on": end_day + timedelta(1),
            }
            first: datetime | date = start_day
        else:
            for name in ("start_time", "end_time"):
                if getattr(self, name).data is None:
                    raise _FieldError(
                        getattr(self, name), _l("Give a time, or tick all-day.")
                    )
            starts = datetime.combine(start_day, self.start_time.data, zone)
            ends = datetime.combine(end_day, self.end_time.data, zone)
            if ends <= starts:
                raise _FieldError(self.end_time, _l("The end is before the start."))
            times = {
                "starts_at": starts.astimezone(UTC),
                "ends_at": ends.astimezone(UTC),
            }
            first = starts
        deadline = None
        if self.registration_deadline.data is not None:
            deadline = self.registration_deadline.data.replace(tzinfo=zone).astimezone(
                UTC
            )
        data = EventData(
            kind_code=self.kind_code.data,
            title=self.title.data.strip(),
            tzid=self.tzid.data,
            is_all_day=all_day,
            description=blank_to_none(self.description.data),
            speakers=blank_to_none(self.speakers.data),
            location=blank_to_none(self.location.data),
            online_url=blank_to_none(self.online_url.data),
            capacity=self.capacity.data,
            registration_deadline=deadline,
            credited_hours=Decimal(self.credited_hours.data),
            exdates=self._exdates(zone, None if all_day else self.start_time.data),
            **times,
        )
        if deadline is not None and deadline > data.ends_at:
            raise _FieldError(
                self.registration_deadline, _l("The deadline is after the event ends.")
            )
        if rule := self._rule(start_day):
            try:
                data.rrule = normalise_rrule(rule, first, data.tzid, all_day=all_day)
            except RecurrenceError as exc:
                raise _FieldError(self.repeat, RECURRENCE_MESSAGES[exc.code]) from exc
        elif data.exdates:
            raise _FieldError(self.exdates, _l("Only a repeating event skips dates."))
        data.allow_walk_ins = bool(self.allow_walk_ins.data)
        return data

    def _rule(self, first: date) -> str | None:
        """The RRULE the repeat fields describe (None: a single event)."""
        if self.repeat.data == "keep" and self.kept_rule:
            return self.kept_rule
        if self.repeat.data not in FREQS:
            return None
        if self.ends.data == "until":
            if self.until.data is None:
                raise _FieldError(self.until, _l("Give the last date."))
            if self.until.data < first:
                raise _FieldError(self.until, _l("The last date is before the start."))
        elif self.count.data is None:
            raise _FieldError(self.count, _l("Give the number of sessions."))
        spec = RuleSpec(
            freq=self.repeat.data,
            interval=self.interval.data or 1,
            weekdays=tuple(sorted({int(d) for d in self.weekdays.data or []})),
            monthly=self.monthly.data if self.monthly.data in MONTHLY_MODES else "date",
            end=self.ends.data if self.ends.data in ENDS else "count",
            count=self.count.data if self.ends.data != "until" else None,
            until=self.until.data if self.ends.data == "until" else None,
        )
        return build_rrule(spec, first)

    def _exdates(self, zone: ZoneInfo, start_time: time | None) -> list[str]:
        """Skipped dates as stored: dates if all-day, else the skipped starts in UTC."""
        values = []
        for line in (self.exdates.data or "").split():
            try:
                day = date.fromisoformat(line.strip())
            except ValueError as exc:
                raise _FieldError(
                    self.exdates,
                    _l("%(value)s is not a date (YYYY-MM-DD).", value=line),
                ) from exc
            if start_time is None:
                values.append(day.isoformat())
            else:
                # The excluded occurrence starts on that day at the series' start time.
                moment = datetime.combine(day, start_time, zone)
                values.append(moment.astimezone(UTC).isoformat())
        return sorted(set(values))


class _FieldError(Exception):
    def __init__(self, field: Any, message: Any) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def event_form_data(event: Event) -> dict[str, Any]:
    """The form's initial values for an existing event, in the event's zone."""
    zone = ZoneInfo(event.tzid)
    start = event.starts_at.astimezone(zone)
    end = event.ends_at.astimezone(zone)
    values: dict[str, Any] = {
        name: getattr(event, name)
        for name in (
            "kind_code", "title", "description", "speakers", "location",
            "online_url", "tzid", "is_all_day", "capacity", "credited_hours",
            "allow_walk_ins",
        )
    }  # fmt: skip
    values.update(repeat_values(event))
    if event.is_all_day:
        values.update(start_date=event.start_on, end_date=event.last_day)
        exdates = list(event.exdates or [])
    else:
        values.update(
            start_date=start.date(),
            start_time=start.time().replace(tzinfo=None),
            end_date=end.date(),
            end_time=end.time().replace(tzinfo=None),
        )
        exdates = [
            v.astimezone(zone).date().isoformat()
            for v in event.exdate_values()
            if isinstance(v, datetime)  # always, for a timed event
        ]
    if event.registration_deadline is not None:
        deadline = event.registration_deadline.astimezone(zone).replace(tzinfo=None)
        values["registration_deadline"] = deadline
    values["exdates"] = "\n".join(exdates)
    return values


def repeat_values(event: Event) -> dict[str, Any]:
    """The repeat fields for an event's rule; "keep" for one the form cannot show."""
    if not event.rrule:
        return {"repeat": ""}
    zone = ZoneInfo(event.tzid)
    first = event.start_on or event.starts_at.astimezone(zone).date()
    spec = parse_rrule(event.rrule, first, zone)
    if spec is None:
        return {"repeat": "keep"}
    return {
        "repeat": spec.freq,
        "interval": spec.interval,
        "weekdays": [str(d) for d in spec.weekdays],
        "monthly": spec.monthly,
        "ends": spec.end,
        "count": spec.count,
        "until": spec.until,
    }


def kept_rule(event: Event | None) -> str | None:
    """The event's rule when the form cannot show it (kept as it is), else None."""
    if event is None or not event.rrule:
        return None
    return event.rrule if repeat_values(event)["repeat"] == "keep" else None


class ImportForm(FlaskForm):
    """An .ics file upload or an https URL of the association's calendar."""

    file = FileField(
        _l("Calendar file (.ics)"),
        validators=[
            FileSize(IMPORT_MAX_BYTES, message=_l("The file is larger than 5 MB."))
        ],
    )
    url = StringField(
        _l("or calendar URL"),
        validators=[Optional(), Length(max=2000)],
        description=_l("https:// or webcal:// address of the calendar."),
    )
    allow_private = BooleanField(_l("Allow addresses in private networks"))

    def __init__(self, *args: Any, allow_private_choice: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not allow_private_choice:
            del self.allow_private

    def validate(self, extra_validators: Any = None) -> bool:
        """Exactly one of the file and the URL."""
        if not super().validate(extra_validators):
            return False
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        has_url = bool((self.url.data or "").strip())
        if has_file == has_url:
            self.url.errors.append(_l("Give either a file or a URL."))
            return False
        return True


def parse_month(value: str | None) -> tuple[int, int] | None:
    """Read YYYY-MM; None when absent or malformed."""
    try:
        moment = datetime.strptime(value or "", "%Y-%m")
    except ValueError:
        return None
    # The month after must exist too, in every time zone (datetime stops at 9999).
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    return moment.year, moment.month
