"""Forms of the progress pages and of the admin ruleset pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import Form, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from pdtracker.org.display import department_name
from pdtracker.org.models import Department
from pdtracker.progress.documents import MAX_DOCUMENT_CHARS

MAX_UPLOAD_BYTES = MAX_DOCUMENT_CHARS * 4  # UTF-8: at most four bytes a character


class DepartmentChoiceForm(Form):
    """Which department to show (GET, for admins)."""

    department = SelectField(_l("Department"), coerce=int, validate_choice=False)

    def __init__(
        self,
        *args,
        departments: Sequence[Department],
        label: Callable[[Department], str] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        name = label or department_name
        self.department.choices = [SelectChoice(d.id, name(d)) for d in departments]


class RulesetForm(FlaskForm):
    """A ruleset document, pasted or uploaded."""

    document = TextAreaField(
        _l("Ruleset document"),
        validators=[Optional(), Length(max=MAX_DOCUMENT_CHARS)],
        description=_l("TOML or YAML. Paste it here or choose a file below."),
        render_kw={"rows": 18, "spellcheck": "false"},
    )
    file = FileField(
        _l("Or upload a file"),
        validators=[
            FileSize(MAX_UPLOAD_BYTES, message=_l("The file is too large.")),
        ],
        render_kw={"accept": ".toml,.yaml,.yml,text/plain"},
    )
    format = SelectField(
        _l("Format"),
        choices=[
            SelectChoice("", _l("Detect")),
            SelectChoice("toml", "TOML"),
            SelectChoice("yaml", "YAML"),
        ],
        default="",
        validate_choice=False,  # anything else means "detect"
    )

    def text(self) -> str | None:
        """The uploaded file's text if any, else the pasted text; None if not UTF-8."""
        upload = self.file.data
        if upload and getattr(upload, "filename", ""):
            raw = upload.read(MAX_UPLOAD_BYTES + 1)
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return None
        return self.document.data or ""

    def chosen_format(self) -> str | None:
        """The chosen format, or the file's extension, or None to detect it."""
        if self.format.data in ("toml", "yaml"):
            return self.format.data
        name = getattr(self.file.data, "filename", "") or ""
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        return {"toml": "toml", "yaml": "yaml", "yml": "yaml"}.get(suffix)
