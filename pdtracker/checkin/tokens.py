"""Check-in codes: a signed token naming one session, renewed every 30 seconds.

A code shown at the door carries the event, the session and the 30-second step it
was drawn in, signed with HMAC-SHA256 under a key derived from the app's secret
(``derive_key``), so nobody can make one. A code is accepted in its own step and
the next one only: a photo sent around stops working within a minute. Whether the
session takes check-ins at all (from when its doors open, 30 minutes before it starts,
until it ends; ``pdtracker.events.doors``) is :func:`check_window`.

Standard library only; the clock is an argument, so tests need no app.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from pdtracker.events.doors import DOORS_OPEN_BEFORE
from pdtracker.failures import CodedError

STEP_SECONDS = 30
# A code is accepted in the step it was drawn in and in the one after it.
ACCEPTED_STEPS = 2
# Check-ins are taken from when the session's doors open (the events domain says when).
OPENS_BEFORE = DOORS_OPEN_BEFORE
MAX_SESSION_KEY = 64
_PURPOSE = b"pdtracker.checkin.v1"
_MAC_BYTES = 16  # 128 bits: unforgeable, and the code stays small enough to scan


class TokenError(CodedError):
    """A refused check-in code: forged, expired, for another session, out of hours."""


@dataclass(frozen=True)
class Claim:
    """What a valid code says: this event's session, drawn in this step."""

    event_id: int
    session_key: str
    step: int


def derive_key(secret_key: str | bytes) -> bytes:
    """The check-in signing key: the app's secret, bound to this one purpose."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def step_of(now: datetime) -> int:
    """The 30-second step ``now`` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def seconds_left(now: datetime) -> int:
    """Seconds until the next step begins (at least 1)."""
    return max(1, STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS)


def issue(key: bytes, event_id: int, session_key: str, now: datetime) -> str:
    """The code for this session in the current step (URL-safe text)."""
    if event_id <= 0 or not session_key or len(session_key) > MAX_SESSION_KEY:
        raise ValueError("event id or session key out of range")
    if "." in session_key or not session_key.isascii():
        raise ValueError("session keys are ASCII without dots")
    payload = f"{event_id}.{session_key}.{step_of(now)}".encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(
    key: bytes,
    token: str,
    now: datetime,
    *,
    expected: tuple[int, str] | None = None,
) -> Claim:
    """The code's claim if it is genuine and current, else TokenError.

    Codes: ``forged`` (malformed, or the signature does not match), ``expired``
    (drawn more than one step ago, or in the future), ``wrong_session`` (genuine but
    for another session than ``expected``, the event id and session key).
    """
    claim = _genuine(key, token)
    age = step_of(now) - claim.step
    if not 0 <= age < ACCEPTED_STEPS:
        raise TokenError("expired")
    if expected is not None and expected != (claim.event_id, claim.session_key):
        raise TokenError("wrong_session")
    return claim


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Refuse a check-in before the doors open (``too_early``) or after the end."""
    if now < starts_at - OPENS_BEFORE:
        raise TokenError("too_early", opens_at=starts_at - OPENS_BEFORE)
    if now >= ends_at:
        raise TokenError("too_late")


def is_open(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """Whether the session takes check-ins at ``now``."""
    return starts_at - OPENS_BEFORE <= now < ends_at


def _genuine(key: bytes, token: str) -> Claim:
    try:
        encoded, _, signature = token.partition(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(signature), _mac(key, payload)):
            raise TokenError("forged")
        event_id, session_key, step = payload.decode("ascii").split(".")
        return Claim(int(event_id), session_key, int(step))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise TokenError("forged") from exc


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or len(text) > 200 or not text.isascii():
        raise ValueError("bad token part")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
