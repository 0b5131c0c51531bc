"""When a session's doors open: attendance at the door starts before the session.

Standard library only, so the pure check-in token module can import it.
"""

from __future__ import annotations

from datetime import timedelta

# A check-in code is accepted, and a walk-in recorded, from this long before a
# session starts; the attendance carries the moment it happened.
DOORS_OPEN_BEFORE = timedelta(minutes=30)
