"""Import forms: the upload, the column mapping of the preview, activation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from pdtracker.auth.forms import ResetPasswordForm
from pdtracker.onboarding.headers import FIELDS
from pdtracker.onboarding.reading import MAX_BYTES

IMPORTER_LABELS = {
    "people": _l("People (teachers and heads)"),
    "enterprises": _l("Enterprises"),
    "records": _l("Training records"),
}
ACCEPT = ".xlsx,.csv,.txt"


class UploadForm(FlaskForm):
    """Which importer, the file, and optionally a saved mapping."""

    importer = SelectField(_l("Import"))
    file = FileField(
        _l("Spreadsheet (XLSX or CSV)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileSize(MAX_BYTES, message=_l("The file is larger than 20 MB.")),
        ],
        render_kw={"accept": ACCEPT},
    )
    mapping = StringField(
        _l("Saved mapping (optional)"), validators=[Optional(), Length(max=100)]
    )
    college = SelectField(
        _l("College"),
        coerce=int,
        description=_l("People and records go into this college's departments."),
    )

    def __init__(
        self,
        *args,
        importers: Sequence[str],
        colleges: Sequence[tuple[int, str]] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.importer.choices = [SelectChoice(i, IMPORTER_LABELS[i]) for i in importers]
        if not colleges:  # a college admin's or a head's imports stay at home
            del self.college
            return
        self.college.choices = [SelectChoice(i, name) for i, name in colleges]
        if self.college.data is None and colleges:
            self.college.data = colleges[0][0]


class MappingFormBase(FlaskForm):
    """The preview's form; a select per column is added by :func:`mapping_form`."""

    filename = HiddenField()
    mapping = HiddenField()  # the saved mapping the header was first found with


def mapping_form(
    importer: str, names: Sequence[str], columns: Mapping[int, str], **kwargs
) -> MappingFormBase:
    """A form with one select per named column (its field, or left out), then the
    name to save the mapping under and, for records, the verified choice."""
    choices = [SelectChoice("", _l("— not imported —"))] + [
        SelectChoice(f.key, _l(f.label)) for f in FIELDS[importer]
    ]
    attrs = {
        f"col_{i}": SelectField(name, choices=choices, default=columns.get(i, ""))
        for i, name in enumerate(names)
        if name
    }
    attrs["save_as"] = StringField(
        _l("Save this mapping as"), validators=[Optional(), Length(max=100)]
    )
    if importer == "records":
        attrs["verified"] = BooleanField(
            _l("Accept the records as verified (an official platform export)")
        )
    form_class = type("MappingForm", (MappingFormBase,), attrs)
    return form_class(**kwargs)


def column_fields(form: MappingFormBase) -> list:
    """The form's per-column selects, in column order."""
    return [f for f in form if f.name.startswith("col_")]


class TypeNameForm(FlaskForm):
    """A spreadsheet's type name and the activity kind it means."""

    name = StringField(
        _l("Type name in the files"), validators=[DataRequired(), Length(max=64)]
    )
    kind = SelectField(_l("Activity kind"))

    def __init__(self, *args, kinds: Sequence[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(code, label) for code, label in kinds]


class ActivationForm(ResetPasswordForm):
    """Choose the first password of an imported account."""
