"""Refused event operations: services raise them with a code, the views word it."""

from __future__ import annotations

from pdtracker.failures import CodedError


class EventError(CodedError):
    """A refused event operation (edit, publish, cancel, delete)."""


class RegistrationError(EventError):
    """A refused registration, cancellation or attendance mark."""
