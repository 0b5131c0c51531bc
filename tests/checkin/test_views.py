"""Check-in over HTTP (issue 15): one tap credits a session once; each refusal is worded.

Refusals change nothing: no activity, no attendance, no registration.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pdtracker.checkin import views
from pdtracker.timeutil import utcnow
from tests.checkin.conftest import (
    at_step_start,
    code_for,
    credits,
    places,
    register,
    session_keys,
)

CHECKIN_RRULE = "FREQ=WEEKLY;COUNT=3"


def refusal_code(response) -> str | None:
    found = re.search(r'id="checkin-refusal" data-code="([a-z_]+)"', response.text)
    return found.group(1) if found else None


def test_one_tap_checks_in_and_credits_the_session_once(
    app, client, auth, cast, make_event
) -> None:
    event = make_event()
    register(app, cast.teacher1, event)
    code = code_for(event, session_keys(app, event)[0])
    auth.login("teacher1")
    page = client.get(f"/checkin/{code}")
    assert page.status_code == 200
    assert 'id="checkin-button"' in page.text
    assert places(app, event) == [("registered", None)]  # looking changes nothing

    done = client.post(f"/checkin/{code}")
    assert done.status_code == 302
    assert "/done" in done.headers["Location"]
    assert places(app, event) == [("attended", "checkin")]
    [activity] = credits(app, cast.teacher1)
    assert activity.status == "verified"
    assert activity.title == event.title

    page = client.get(done.headers["Location"])
    assert "You are checked in. The session is credited on your record." in page.text
    assert page.headers["Cache-Control"] == "private, no-store"

    again = client.post(f"/checkin/{code}", follow_redirects=True)
    assert "You are already checked in for this session." in again.text
    assert len(credits(app, cast.teacher1)) == 1
    assert "You are already checked in" in client.get(f"/checkin/{code}").text


def test_login_returns_to_the_code_and_the_scan_is_remembered(
    app, client, cast, make_event, monkeypatch
) -> None:
    """A teacher who logs in first is not late: their scan is kept by their browser."""
    event = make_event()
    register(app, cast.teacher1, event)
    now = at_step_start(utcnow())
    code = code_for(event, session_keys(app, event)[0], now)
    monkeypatch.setattr(views, "utcnow", lambda: now + timedelta(seconds=5))
    first = client.get(f"/checkin/{code}")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?next=")
    monkeypatch.setattr(views, "utcnow", lambda: now + timedelta(minutes=3))
    back = client.post(
        login_url, data={"username": "teacher1", "password": "pdtracker-demo"}
    )
    assert back.headers["Location"] == f"/checkin/{code}"
    assert 'id="checkin-button"' in client.get(f"/checkin/{code}").text
    assert client.post(f"/checkin/{code}").status_code == 302
    assert places(app, event) == [("attended", "checkin")]


def test_a_photo_of_the_code_opened_later_elsewhere_has_expired(
    app, client, auth, cast, make_event, monkeypatch
) -> None:
    event = make_event()
    register(app, cast.teacher1, event)
    now = at_step_start(utcnow())
    code = code_for(event, session_keys(app, event)[0], now)
    auth.login("teacher1")
    monkeypatch.setattr(views, "utcnow", lambda: now + timedelta(seconds=59))
    assert client.get(f"/checkin/{code}").status_code == 200  # still current

    other = app.test_client()  # another phone, sent a photo of the code
    other.post("/login", data={"username": "teacher1", "password": "pdtracker-demo"})
    monkeypatch.setattr(views, "utcnow", lambda: now + timedelta(seconds=60))
    for response in (other.get(f"/checkin/{code}"), other.post(f"/checkin/{code}")):
        assert response.status_code == 400
        assert refusal_code(response) == "expired"
        assert "This check-in code has expired" in response.text
    assert places(app, event) == [("registered", None)]
    assert credits(app, cast.teacher1) == []


def _tampered(code: str) -> str:
    payload, _, signature = code.partition(".")
    return f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


@pytest.mark.parametrize(
    ("case", "status", "code", "words"),
    [
        ("forged", 400, "forged", "This check-in code is not valid."),
        ("garbage", 400, "forged", "This check-in code is not valid."),
        ("expired", 400, "expired", "This check-in code has expired"),
        ("not registered", 409, "not_registered", "You are not registered for this"),
        ("other session", 409, "other_session", "This code is for the session of"),
        ("too early", 409, "too_early", "Check-in has not opened yet: it opens at"),
        ("too late", 409, "too_late", "This session has ended: check-in is closed."),
        ("cancelled", 409, "cancelled", "This event is cancelled."),
        ("waitlisted", 409, "waitlisted", "You are on the waiting list"),
        ("staff", 409, "not_teacher", "Only teachers check in."),
    ],
)
def test_each_refusal_is_worded_and_changes_nothing(
    app, client, auth, cast, make_event, table_counts, case, status, code, words
) -> None:
    user = "staff1" if case == "staff" else "teacher1"
    if case == "staff":
        cast.staff  # noqa: B018 - the staff member's language is English below
    starts_in = {"too early": timedelta(hours=2), "too late": timedelta(hours=-3)}
    rrule = CHECKIN_RRULE if case == "other session" else None
    event = make_event(starts_in.get(case, timedelta(minutes=10)), rrule=rrule)
    keys = session_keys(app, event)
    if case == "other session":
        register(app, cast.teacher1, event, keys[1:])
    elif case == "waitlisted":
        _fill(app, event, cast)
    elif case not in ("not registered", "too late"):
        register(app, cast.teacher1, event)
    if case == "cancelled":
        _cancel(app, event)
    now = utcnow()
    token = {
        "forged": _tampered(code_for(event, keys[0], now)),
        "garbage": "not-a-code",
        "expired": code_for(event, keys[0], now - timedelta(seconds=61)),
    }.get(case) or code_for(event, keys[0], now)
    _english(app, user)
    auth.login(user)
    before = table_counts()
    for response in (client.get(f"/checkin/{token}"), client.post(f"/checkin/{token}")):
        if case == "staff" and response.request.method == "POST":
            assert response.status_code == 403  # only teachers may post at all
            continue
        assert response.status_code == status, case
        assert refusal_code(response) == code
        assert words in response.text
    after = table_counts()
    assert {k: v for k, v in after.items() if v != before[k]} == {}


def _english(app, username: str) -> None:
    from sqlalchemy import update

    from pdtracker.auth.models import User
    from pdtracker.extensions import db

    with app.app_context():
        db.session.execute(
            update(User).where(User.username == username).values(locale="en")
        )
        db.session.commit()


def _cancel(app, event) -> None:
    from pdtracker.events.models import Event
    from pdtracker.events.services import cancel_event
    from pdtracker.extensions import db

    with app.app_context():
        cancel_event(db.session.get_one(Event, event.id), None, utcnow())
        db.session.commit()


def _fill(app, event, cast) -> None:
    """Event of one seat: teacher2 takes it, teacher1 waits."""
    from pdtracker.events.models import Event
    from pdtracker.extensions import db

    with app.app_context():
        db.session.get_one(Event, event.id).capacity = 1
        db.session.commit()
    register(app, cast.teacher2, event)
    register(app, cast.teacher1, event)


def test_a_code_for_another_session_of_the_same_series(
    app, client, auth, cast, make_event
) -> None:
    """Registered for every session: the code still credits only its own session."""
    event = make_event(rrule=CHECKIN_RRULE)
    register(app, cast.teacher1, event)
    keys = session_keys(app, event)
    auth.login("teacher1")
    client.post(f"/checkin/{code_for(event, keys[0])}")
    assert places(app, event) == [
        ("attended", "checkin"),
        ("registered", None),
        ("registered", None),
    ]
    # The second session has not opened yet (a week later).
    response = client.post(f"/checkin/{code_for(event, keys[1])}")
    assert refusal_code(response) == "too_early"


def test_a_walk_in_is_registered_and_credited(
    app, client, auth, cast, make_event
) -> None:
    event = make_event(allow_walk_ins=True)
    code = code_for(event, session_keys(app, event)[0])
    auth.login("teacher1")
    page = client.get(f"/checkin/{code}")
    assert "This event takes walk-ins" in page.text
    assert client.post(f"/checkin/{code}").status_code == 302
    assert places(app, event) == [("attended", "checkin")]
    assert len(credits(app, cast.teacher1)) == 1


def test_a_full_session_takes_no_walk_in(app, client, auth, cast, make_event) -> None:
    event = make_event(allow_walk_ins=True, capacity=1)
    register(app, cast.teacher2, event)
    auth.login("teacher1")
    response = client.post(f"/checkin/{code_for(event, session_keys(app, event)[0])}")
    assert response.status_code == 409
    assert refusal_code(response) == "full"
    assert credits(app, cast.teacher1) == []


def test_the_check_in_post_needs_its_csrf_token(app, cast, make_event) -> None:
    event = make_event()
    register(app, cast.teacher1, event)
    code = code_for(event, session_keys(app, event)[0])
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text)
    assert token is not None
    client.post(
        "/login",
        data={"username": "teacher1", "password": "pdtracker-demo",
              "csrf_token": token.group(1)},
    )  # fmt: skip
    page = client.get(f"/checkin/{code}")
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert form_token is not None
    assert client.post(f"/checkin/{code}").status_code == 400
    assert places(app, event) == [("registered", None)]
    ok = client.post(f"/checkin/{code}", data={"csrf_token": form_token.group(1)})
    assert ok.status_code == 302
    assert places(app, event) == [("attended", "checkin")]


def test_a_moved_session_opens_at_its_new_time(
    app, client, auth, cast, make_event
) -> None:
    """The second session of a weekly series, moved to today, takes check-ins now."""
    from pdtracker.events.models import Event
    from pdtracker.events.session_changes import move_session
    from pdtracker.extensions import db

    event = make_event(timedelta(hours=-3), rrule=CHECKIN_RRULE)  # first one is over
    register(app, cast.teacher1, event, session_keys(app, event)[1:])
    keys = session_keys(app, event)
    starts = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    with app.app_context():
        move_session(
            db.session.get_one(Event, event.id), keys[1], starts,
            starts + timedelta(hours=1), None, None, utcnow(),
        )  # fmt: skip
        db.session.commit()
    auth.login("teacher1")
    assert refusal_code(client.post(f"/checkin/{code_for(event, keys[0])}")) == (
        "too_late"
    )
    assert client.post(f"/checkin/{code_for(event, keys[1])}").status_code == 302
    assert ("attended", "checkin") in places(app, event)


def test_a_cancelled_session_takes_no_check_in(
    app, client, auth, cast, make_event
) -> None:
    from pdtracker.events.models import Event
    from pdtracker.events.session_changes import cancel_one_session
    from pdtracker.extensions import db

    event = make_event(rrule=CHECKIN_RRULE)
    register(app, cast.teacher1, event)
    key = session_keys(app, event)[0]
    with app.app_context():
        cancel_one_session(db.session.get_one(Event, event.id), key, None, utcnow())
        db.session.commit()
    auth.login("teacher1")
    response = client.post(f"/checkin/{code_for(event, key)}")
    assert response.status_code == 409
    assert refusal_code(response) == "session_cancelled"
    assert "This session is cancelled." in response.text
    assert credits(app, cast.teacher1) == []


def test_an_early_check_in_is_recorded_when_it_happened(
    app, client, auth, cast, make_event
) -> None:
    """The doors open 30 minutes early: a check-in then is recorded at its own time,
    not moved to the session's start."""
    event = make_event(starts_in=timedelta(minutes=10))
    register(app, cast.teacher1, event)
    code = code_for(event, session_keys(app, event)[0])
    auth.login("teacher1")
    before = utcnow()
    assert client.post(f"/checkin/{code}").status_code == 302
    [activity] = credits(app, cast.teacher1)
    assert activity.verified_at is not None
    assert before <= activity.verified_at < event.starts_at
