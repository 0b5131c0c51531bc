"""The staff's form for marking a session's attendance from a list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class AttendanceListForm(FlaskForm):
    """Usernames or staff numbers, as a sign-in sheet lists them."""

    entries = TextAreaField(
        _l("Usernames or staff numbers"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l(
            "One per line, or separated by commas or spaces (at most 500). A staff "
            "number several colleges use can be written after the college code "
            "(CODE-0001)."
        ),
        render_kw={"rows": 6},
    )
