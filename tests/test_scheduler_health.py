"""/healthz: the web app, the database, and the scheduler's heartbeat."""

from __future__ import annotations

import time
from datetime import timedelta

from pdtracker import create_app
from pdtracker.extensions import db
from pdtracker.notifications.runs import beat
from pdtracker.timeutil import utcnow
from tests.conftest import PG_URL


def _beat(app, age: timedelta) -> None:
    with app.app_context():
        now = utcnow()
        beat("host:1", now - timedelta(hours=1), now - age)
        db.session.commit()


def test_no_scheduler_ever_is_degraded_but_up(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body.pop("feed_listener") in {"off", "connecting", "listening"}
    assert body == {
        "status": "degraded",
        "database": "ok",
        "scheduler": {"fresh": False, "last_heartbeat": None},
    }


def test_a_fresh_heartbeat_is_ok(app, client) -> None:
    _beat(app, timedelta(seconds=20))
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["scheduler"]["fresh"] is True
    assert body["scheduler"]["last_heartbeat"].endswith("+00:00")


def test_a_stale_heartbeat_is_degraded(app, client) -> None:
    app.config["SCHEDULER_HEARTBEAT_MAX_AGE"] = 60
    _beat(app, timedelta(seconds=61))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "degraded"
    assert response.json["scheduler"]["fresh"] is False


def test_an_unreachable_database_is_503(tmp_path) -> None:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
    })  # fmt: skip
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "error", "scheduler": None}
    assert response.headers["Cache-Control"] == "no-store"
    assert "sqlite" not in response.get_data(as_text=True)


def test_healthz_needs_no_login_and_accepts_no_post(client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_healthz_says_whether_feed_changes_are_listened_for(client) -> None:
    state = client.get("/healthz").get_json()["feed_listener"]
    if not PG_URL:
        assert state == "off"  # SQLite: every feed request asks the database
        return
    deadline = time.monotonic() + 10
    while state != "listening" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get("/healthz").get_json()["feed_listener"]
    assert state == "listening"
