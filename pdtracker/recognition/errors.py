"""Why a recognition step was refused: a stable code the views word."""

from __future__ import annotations

from pdtracker.failures import CodedError


class Refused(CodedError):
    """A recognition step that may not happen now, or not by this person."""

    code = "refused"
