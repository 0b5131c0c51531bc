"""Login throttling: a growing delay per account and per real client address."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pdtracker.extensions import db
from tests.conftest import DEMO_PASSWORD, requires_postgres

WRONG = "wrong-password"


@pytest.fixture
def delays(app):
    """Five free failures per account, then 30 s, doubling up to 15 minutes."""
    app.config.update(
        LOGIN_MAX_FAILURES_PER_ACCOUNT=5,
        LOGIN_DELAY=timedelta(seconds=30),
        LOGIN_MAX_DELAY=timedelta(minutes=15),
        LOGIN_WINDOW=timedelta(minutes=15),
    )


def _settings_status(client) -> int:
    return client.get("/account/settings").status_code


def test_right_password_passes_after_the_delay(
    app, client, auth, world, clock, delays
) -> None:
    """Guessing does not lock the owner out: after the delay the right password works."""
    for _ in range(5):
        assert auth.login("admin", WRONG).status_code == 200
    refused = auth.login("admin")  # right password, but too soon
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 30
    assert _settings_status(client) == 302
    clock.advance(timedelta(seconds=31))
    assert auth.login("admin").status_code == 302
    assert _settings_status(client) == 200


def test_delay_doubles_with_each_further_failure_and_resets_on_success(
    app, client, auth, world, clock, delays
) -> None:
    for _ in range(5):
        auth.login("teacher1", WRONG)
    clock.advance(timedelta(seconds=31))
    assert auth.login("teacher1", WRONG).status_code == 200  # 6th: now 60 s
    clock.advance(timedelta(seconds=31))
    assert auth.login("teacher1").status_code == 429
    clock.advance(timedelta(seconds=30))
    assert auth.login("teacher1").status_code == 302
    auth.logout()
    # A success forgets the account's failures: five free tries again.
    for _ in range(5):
        assert auth.login("teacher1", WRONG).status_code == 200


def test_delay_is_capped(app, client, auth, world, clock, delays) -> None:
    app.config["LOGIN_MAX_DELAY"] = timedelta(minutes=2)
    app.config["LOGIN_WINDOW"] = timedelta(days=1)  # nothing leaks away meanwhile
    for _ in range(5):
        auth.login("teacher1", WRONG)
    for _ in range(6):  # 30 s, 60 s, 120 s, then capped at 120 s
        clock.advance(timedelta(minutes=2, seconds=1))
        assert auth.login("teacher1", WRONG).status_code == 200
    clock.advance(timedelta(minutes=2, seconds=1))
    assert auth.login("teacher1").status_code == 302


def test_occasional_failures_leak_away(app, client, auth, world, clock, delays) -> None:
    """A campus behind one address is not slowed down for ever by scattered typos."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3  # one leaks away per 5 minutes
    names = ("teacher1", "teacher2", "head1", "head2")
    for number in range(10):
        clock.advance(timedelta(minutes=5, seconds=1))
        assert auth.login(names[number % 4], WRONG).status_code == 200, number
    assert auth.login("staff1").status_code == 302


def test_password_change_checks_are_throttled_too(
    app, client, auth, world, clock, delays
) -> None:
    """A stolen session cannot guess the current password at full speed."""
    auth.login("teacher1")

    def change(current: str) -> int:
        return client.post(
            "/account/password",
            data={
                "current_password": current,
                "new_password": "a-new-long-password",
                "confirm": "a-new-long-password",
            },
        ).status_code

    for _ in range(5):
        assert change(WRONG) == 200
    assert change(DEMO_PASSWORD) == 429
    clock.advance(timedelta(seconds=31))
    assert change(DEMO_PASSWORD) == 302


def test_clients_behind_a_trusted_proxy_are_counted_apart(
    world, make_app, clock, delays
) -> None:
    proxied = make_app(
        TRUSTED_PROXIES=1,
        LOGIN_MAX_FAILURES_PER_ADDRESS=3,
        LOGIN_DELAY=timedelta(seconds=30),
    )
    first, second = proxied.test_client(), proxied.test_client()
    for name in ("teacher1", "teacher2", "head1"):
        first.post(
            "/login",
            data={"username": name, "password": WRONG},
            headers={"X-Forwarded-For": "10.1.1.1"},
        )
    blocked = first.post(
        "/login",
        data={"username": "head2", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "10.1.1.1"},
    )
    assert blocked.status_code == 429
    other = second.post(
        "/login",
        data={"username": "head2", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "10.2.2.2"},
    )
    assert other.status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(
    app, client, world, clock, delays
) -> None:
    """By default X-Forwarded-For is the client's own claim: it cannot dodge the count."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for number, name in enumerate(("teacher1", "teacher2", "head1")):
        client.post(
            "/login",
            data={"username": name, "password": WRONG},
            headers={"X-Forwarded-For": f"10.9.9.{number}"},
        )
    response = client.post(
        "/login",
        data={"username": "head2", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.200"},
    )
    assert response.status_code == 429


@requires_postgres
def test_concurrent_guesses_get_at_most_the_allowed_number(app, world, delays) -> None:
    """20 threads guess at once; the check and the count cannot be raced."""
    app.config["PASSWORD_HASH_METHOD"] = "scrypt:1024:8:1"
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess() -> None:
        client = app.test_client()
        barrier.wait()
        status = client.post(
            "/login", data={"username": "teacher1", "password": WRONG}
        ).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == 5


def test_the_nightly_tick_forgets_counters_that_have_leaked_away(app) -> None:
    """Counters untouched for a day are gone; recent or still-blocking ones stay."""
    from pdtracker.auth.models import ThrottleCounter
    from pdtracker.notifications.planners import nightly_lapse_check

    now = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    rows = {
        "login:account:stale": (now - timedelta(days=2), None, 40),
        "login:account:recent": (now - timedelta(hours=3), None, 4),
        "login:address:blocked": (
            now - timedelta(days=2),
            now + timedelta(minutes=5),
            9,
        ),
    }
    with app.app_context():
        for key, (last_at, blocked_until, failures) in rows.items():
            db.session.add(
                ThrottleCounter(
                    key=key,
                    failures=failures,
                    last_at=last_at,
                    blocked_until=blocked_until,
                )
            )
        db.session.commit()
        counts = nightly_lapse_check(now)
        left = set(db.session.scalars(select(ThrottleCounter.key)))
    assert left == {"login:account:recent", "login:address:blocked"}
    assert counts["throttle_counters_pruned"] == 1
