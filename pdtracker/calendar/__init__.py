"""Calendar feeds: the iCalendar builder (ics.py), importing, and the feed blueprint.

``pdtracker.calendar.bp`` is the ``calendar`` blueprint (views.py): the subscribe
page and the teacher, department and public feeds over HTTP. It is loaded on first
access so that the pure modules (ics.py, ics_import.py, fetch.py) import without
Flask views or models; registering it installs the session listener that bumps
feed states (changes.py).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """Load the blueprint lazily (PEP 562)."""
    if name == "bp":
        from pdtracker.calendar.views import bp

        return bp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
