"""The feed directory: URLs resolved from memory, kept current by LISTEN/NOTIFY.

Two apps on one PostgreSQL database stand for two gunicorn workers: what one
changes, the other must stop serving from memory. See docs/deployment.md D6.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import event, text

from pdtracker import create_app
from pdtracker.auth.models import Role, User, UserRole
from pdtracker.calendar import directory
from pdtracker.calendar import services as svc
from pdtracker.calendar.models import FeedScope
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests.calendar.feedkit import FeedKit, get
from tests.conftest import PG_URL, requires_postgres

# --- the map itself ---------------------------------------------------------------


@dataclass(frozen=True)
class Handle:
    feed_key: str


def live_directory(size: int = 10) -> directory.FeedDirectory:
    found = directory.FeedDirectory(size)
    found.set_live(True)
    return found


def test_payload_names_the_keys_or_everything() -> None:
    keys = {"teacher:1", "department:2", "public"}
    assert directory.parse_payload(directory.payload(keys)) == keys
    many = {f"teacher:{n}" for n in range(2000)}
    assert directory.payload(many) == directory.ALL
    assert directory.parse_payload(directory.ALL) is None


def test_nothing_is_served_or_kept_while_the_listener_is_down() -> None:
    found = directory.FeedDirectory(10)
    assert found.epoch() is None
    found.put("a", Handle("teacher:1"), found.epoch())
    assert found.get("a") is None
    live = live_directory()
    live.put("a", Handle("teacher:1"), live.epoch())
    assert live.get("a") == Handle("teacher:1")
    live.set_live(False)  # the connection dropped: notifications may be lost
    assert live.get("a") is None
    live.set_live(True)
    assert live.get("a") is None
    assert len(live) == 0


def test_forget_drops_exactly_the_named_feeds() -> None:
    found = live_directory()
    found.put(("teacher", "tok1"), Handle("teacher:1"), found.epoch())
    found.put(("teacher", "tok2"), Handle("teacher:2"), found.epoch())
    found.put(("department", "tok3"), Handle("department:1"), found.epoch())
    found.forget({"teacher:1", "department:1"})
    assert found.get(("teacher", "tok1")) is None
    assert found.get(("department", "tok3")) is None
    assert found.get(("teacher", "tok2")) == Handle("teacher:2")
    found.forget(None)
    assert len(found) == 0


def test_a_lookup_that_raced_a_notification_is_not_kept() -> None:
    found = live_directory()
    epoch = found.epoch()  # a request reads the epoch, then queries...
    found.forget({"teacher:1"})  # ...while a commit's NOTIFY arrives
    found.put(("teacher", "tok1"), Handle("teacher:1"), epoch)
    assert found.get(("teacher", "tok1")) is None
    found.put(("teacher", "tok1"), Handle("teacher:1"), found.epoch())
    assert found.get(("teacher", "tok1")) == Handle("teacher:1")


def test_the_map_is_bounded_and_evicts_the_least_recently_used() -> None:
    found = live_directory(size=3)
    for n in range(3):
        found.put(n, Handle(f"teacher:{n}"), found.epoch())
    assert found.get(0) is not None  # 0 is now the most recently used
    found.put(3, Handle("teacher:3"), found.epoch())
    assert len(found) == 3
    assert found.get(1) is None
    assert found.get(0) is not None
    found.forget({"teacher:1"})  # an evicted feed's key is harmless
    assert len(found) == 3


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite run")
def test_sqlite_has_no_directory(app: Flask) -> None:
    assert directory.current(app) is None


# --- two workers on PostgreSQL ------------------------------------------------------


@pytest.fixture
def kit(app: Flask) -> FeedKit:
    return FeedKit(app)


@pytest.fixture
def other_worker(app: Flask) -> Iterator[Flask]:
    """A second app on the same database, as another gunicorn worker would be."""
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER",
            "SERVER_NAME", "PASSWORD_HASH_METHOD")  # fmt: skip
    other = create_app({k: app.config[k] for k in keys})
    yield other
    directory.shutdown(other)
    with other.app_context():
        db.engine.dispose()


def warm(app: Flask, url: str) -> bytes:
    """Fetch until the worker's directory is listening and remembers the URL."""
    get(app, url)
    listener = directory.listener(app)
    assert listener is not None, "PostgreSQL starts a listener on the first feed"
    assert listener.connected.wait(10)
    body = get(app, url).data  # resolved while live: now remembered
    with app.app_context():
        statements: list[str] = []
        engine = db.engine

    def note(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert get(app, url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert statements == [], "a remembered URL is served without a query"
    return body


def eventually(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@requires_postgres
def test_another_workers_change_reaches_the_feed(
    app: Flask, other_worker: Flask, kit: FeedKit, world: dict
) -> None:
    url = kit.url(world["teacher1"])
    before = warm(other_worker, url)
    event = kit.event(title="工业互联网平台专家讲座")
    kit.register(world["teacher1"], event)  # committed by the first worker
    assert event.uid.encode() not in before
    assert eventually(lambda: event.uid.encode() in get(other_worker, url).data)


@requires_postgres
def test_a_rotated_token_stops_working_in_every_worker(
    app: Flask, other_worker: Flask, kit: FeedKit, world: dict
) -> None:
    url = kit.url(world["teacher1"])
    warm(other_worker, url)
    with app.app_context():
        user = db.session.get(User, world["teacher1"].id)
        new = svc.rotate_token(user, FeedScope.TEACHER, utcnow()).token
        db.session.commit()
    assert eventually(lambda: get(other_worker, url).status_code == 404)
    assert get(other_worker, f"/calendar/t/{new}.ics").status_code == 200


@requires_postgres
def test_revoked_role_and_deactivation_close_the_feed_everywhere(
    app: Flask, other_worker: Flask, kit: FeedKit, world: dict
) -> None:
    teacher_url = kit.url(world["teacher1"])
    department_url = kit.url(world["head1"], FeedScope.DEPARTMENT)
    warm(other_worker, teacher_url)
    warm(other_worker, department_url)
    with app.app_context():
        role = db.session.get(UserRole, (world["head1"].id, Role.HEAD.value))
        db.session.delete(role)
        db.session.get(User, world["teacher1"].id).is_active_account = False
        db.session.commit()
    assert eventually(lambda: get(other_worker, department_url).status_code == 404)
    assert eventually(lambda: get(other_worker, teacher_url).status_code == 404)


@requires_postgres
def test_a_lost_listener_connection_never_serves_stale_feeds(
    app: Flask, other_worker: Flask, kit: FeedKit, world: dict
) -> None:
    url = kit.url(world["teacher1"])
    warm(other_worker, url)
    listener = directory.listener(other_worker)
    with app.app_context():
        killed = db.session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": directory.APPLICATION_NAME},
        ).all()
        db.session.commit()
    assert killed, "the listener's session was found"
    # The NOTIFY of this change cannot reach the killed connection.
    event = kit.event(title="智能制造行业年会")
    kit.register(world["teacher1"], event)
    assert eventually(lambda: event.uid.encode() in get(other_worker, url).data)
    assert eventually(lambda: listener.connections >= 2)  # and it listens again
    warm(other_worker, url)


@requires_postgres
def test_roles_replaced_as_the_admin_page_does_close_the_feed_everywhere(
    app: Flask, other_worker: Flask, kit: FeedKit, world: dict
) -> None:
    """set_roles removes a role from the collection (an orphan), not by delete()."""
    department_url = kit.url(world["head1"], FeedScope.DEPARTMENT)
    warm(other_worker, department_url)
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        head.set_roles({Role.TEACHER})
        db.session.commit()
    assert eventually(lambda: get(other_worker, department_url).status_code == 404)


@requires_postgres
def test_gunicorn_workers_stop_serving_a_rotated_url(
    app: Flask, kit: FeedKit, world: dict, tmp_path
) -> None:
    """The real thing: two forked gunicorn workers, each with its own directory."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from pdtracker import ROOT
    from tests.notifications.smtp import free_port
    from tests.test_scheduler_processes import _no_control_socket

    url = kit.url(world["teacher1"])
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PDTRACKER_SECRET_KEY": "gunicorn-directory-test",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         *_no_control_socket(), "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip

    def status() -> int:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}{url}", timeout=5
            ) as r:
                return r.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    try:
        assert eventually(lambda: status() == 200, 30), tmp_path / "gunicorn.log"
        # Let both workers' listeners connect, then let both resolve the URL.
        time.sleep(1)
        assert {status() for _ in range(40)} == {200}
        with app.app_context():
            user = db.session.get(User, world["teacher1"].id)
            svc.rotate_token(user, FeedScope.TEACHER, utcnow())
            db.session.commit()
        assert eventually(lambda: {status() for _ in range(40)} == {404})
    finally:
        web.terminate()
        web.wait(timeout=20)
        log.close()
