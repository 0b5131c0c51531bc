"""Check-in codes (issue 15): signed, renewed every 30 s, accepted for one step more.

Pure tests: the token module takes its clock as an argument and needs no app.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdtracker.checkin import tokens
from pdtracker.checkin.tokens import TokenError, check_window, issue, verify

KEY = tokens.derive_key("test-secret")
# 10:00:00 UTC is the start of a 30-second step.
T0 = datetime(2026, 3, 10, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_fresh_code_names_its_session() -> None:
    token = issue(KEY, 42, "20260310T100000Z", at(5))
    claim = verify(KEY, token, at(6))
    assert (claim.event_id, claim.session_key) == (42, "20260310T100000Z")
    assert claim.step == tokens.step_of(at(0))


@pytest.mark.parametrize("later", [0, 29.9, 30, 59.9])
def test_accepted_in_its_step_and_the_next(later: float) -> None:
    token = issue(KEY, 1, "s1", at(0))
    assert verify(KEY, token, at(later)).event_id == 1


@pytest.mark.parametrize("later", [60, 61, 90, 3600])
def test_an_old_code_has_expired(later: float) -> None:
    """A photographed code sent around stops working within a minute."""
    token = issue(KEY, 1, "s1", at(29))
    with pytest.raises(TokenError) as caught:
        verify(KEY, token, at(29 + later))
    assert caught.value.code == "expired"


def test_a_code_from_the_future_is_refused() -> None:
    token = issue(KEY, 1, "s1", at(90))
    with pytest.raises(TokenError) as caught:
        verify(KEY, token, at(0))
    assert caught.value.code == "expired"


def test_codes_change_every_step() -> None:
    assert issue(KEY, 1, "s1", at(0)) == issue(KEY, 1, "s1", at(29))
    assert issue(KEY, 1, "s1", at(0)) != issue(KEY, 1, "s1", at(30))


def test_another_key_makes_a_forgery() -> None:
    token = issue(tokens.derive_key("another secret"), 1, "s1", at(0))
    with pytest.raises(TokenError) as caught:
        verify(KEY, token, at(1))
    assert caught.value.code == "forged"


def test_the_key_is_bound_to_check_ins() -> None:
    assert tokens.derive_key("test-secret") != b"test-secret"
    assert tokens.derive_key("test-secret") == tokens.derive_key(b"test-secret")


def _swap_payload(token: str, payload: bytes) -> str:
    return f"{tokens._b64(payload)}.{token.partition('.')[2]}"


@pytest.mark.parametrize(
    "payload",
    [b"2.s1.%d", b"1.s2.%d", b"1.s1.%d0"],
    ids=["other event", "other session", "other step"],
)
def test_a_tampered_claim_is_forged(payload: bytes) -> None:
    token = issue(KEY, 1, "s1", at(0))
    forged = _swap_payload(
        token, payload.replace(b"%d", str(tokens.step_of(at(0))).encode())
    )
    with pytest.raises(TokenError) as caught:
        verify(KEY, forged, at(1))
    assert caught.value.code == "forged"


@pytest.mark.parametrize(
    "token",
    ["", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "x" * 500, "中文.签名"],
)
def test_malformed_codes_are_forged(token: str) -> None:
    with pytest.raises(TokenError) as caught:
        verify(KEY, token, at(0))
    assert caught.value.code == "forged"


def test_a_signed_but_garbled_payload_is_forged() -> None:
    payload = b"not-a-claim"
    token = f"{tokens._b64(payload)}.{tokens._b64(tokens._mac(KEY, payload))}"
    with pytest.raises(TokenError) as caught:
        verify(KEY, token, at(0))
    assert caught.value.code == "forged"


def test_a_code_for_another_session() -> None:
    token = issue(KEY, 1, "s1", at(0))
    assert verify(KEY, token, at(1), expected=(1, "s1")).session_key == "s1"
    for expected in [(1, "s2"), (2, "s1")]:
        with pytest.raises(TokenError) as caught:
            verify(KEY, token, at(1), expected=expected)
        assert caught.value.code == "wrong_session"


STARTS = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
ENDS = STARTS + timedelta(hours=2)


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (STARTS - timedelta(minutes=30, seconds=1), "too_early"),
        (STARTS - timedelta(minutes=30), None),
        (STARTS, None),
        (ENDS - timedelta(seconds=1), None),
        (ENDS, "too_late"),
        (ENDS + timedelta(days=1), "too_late"),
    ],
)
def test_the_window_opens_30_minutes_before_and_closes_at_the_end(
    now: datetime, code: str | None
) -> None:
    assert tokens.is_open(STARTS, ENDS, now) is (code is None)
    if code is None:
        check_window(STARTS, ENDS, now)
        return
    with pytest.raises(TokenError) as caught:
        check_window(STARTS, ENDS, now)
    assert caught.value.code == code


def test_too_early_says_when_the_doors_open() -> None:
    with pytest.raises(TokenError) as caught:
        check_window(STARTS, ENDS, STARTS - timedelta(hours=5))
    assert caught.value.details["opens_at"] == STARTS - timedelta(minutes=30)


@pytest.mark.parametrize("key", ["", "a.b", "x" * 65, "中文"])
def test_session_keys_must_fit_the_code(key: str) -> None:
    with pytest.raises(ValueError, match="session"):
        issue(KEY, 1, key, at(0))


def test_seconds_left_counts_down_to_the_next_step() -> None:
    assert tokens.seconds_left(at(0)) == 30
    assert tokens.seconds_left(at(29.5)) == 1
    assert tokens.seconds_left(at(31)) == 29


def test_the_token_module_uses_the_standard_library_only() -> None:
    source = Path(tokens.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "base64",
        "binascii",
        "hashlib",
        "hmac",
        "dataclasses",
        "datetime",
        "pdtracker",
    }
