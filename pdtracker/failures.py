"""One base for refusals that carry a code: services raise, views word the code.

A service refuses an operation by raising a subclass with a stable ``code``
("already_completed", "waitlisted", …) and optional details; the view looks the
code up in its message table, so the wording stays in the user's language and out
of the domain logic.
"""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    """A refused operation; ``code`` says why and ``details`` what the message needs."""

    code: str = "error"

    def __init__(self, code: str | None = None, **details: Any) -> None:
        if code is not None:
            self.code = code
        super().__init__(self.code)
        self.details = details
