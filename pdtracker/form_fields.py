"""Form pieces the areas' forms share: optional free text that is stored as NULL
when left blank."""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import Length, Optional


def blank_to_none(value: Any) -> Any:
    """Strip a text; an empty one becomes None (stored as NULL, not as "")."""
    value = value.strip() if isinstance(value, str) else value
    return value or None


def optional_text(
    label: Any,
    max_length: int,
    field: type[StringField] = StringField,
    **kwargs: Any,
) -> Any:
    """An optional text field (``field``: StringField or a subclass such as
    TextAreaField) of at most ``max_length`` characters, None when blank."""
    return field(
        label,
        filters=[blank_to_none],
        validators=[Optional(), Length(max=max_length)],
        **kwargs,
    )
