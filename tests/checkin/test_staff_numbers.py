"""A pasted sign-in list names teachers of every college: a 工号 two colleges
use names no one teacher by itself. The college code before it does (as in the
logins of new accounts), and so does the event: of the holders, the one who
registered for it. Otherwise the page says the number is ambiguous."""

from __future__ import annotations

from datetime import timedelta

from pdtracker.auth.models import Role
from pdtracker.checkin.marking import find_teachers
from pdtracker.events.models import Event
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile
from pdtracker.timeutil import utcnow
from tests.factories import make_event, register_teacher


def _number(app, user_id: int, staff_number: str) -> None:
    with app.app_context():
        profile = db.session.get(TeacherProfile, user_id)
        assert profile is not None
        profile.staff_number = staff_number
        db.session.commit()


def test_a_number_of_two_colleges_matches_nobody(app, make_department, make_user):
    demo = make_department("AI", "人工智能技术应用系", institution="DEMO")
    north = make_department("NAI", "北城人工智能系", institution="NORTH")
    a = make_user("zhang", department=demo)
    b = make_user("li", department=north)
    c = make_user("wang", department=north)
    _number(app, a.id, "0001")
    _number(app, b.id, "0001")
    _number(app, c.id, "0002")
    with app.app_context():
        found, unknown, _ambiguous = find_teachers(["0001", "0002", "zhang"])
        named = {entry: user.username for entry, user in found.items()}
    assert named == {"0002": "wang", "zhang": "zhang"}
    assert unknown == ["0001"]


def _three_colleges(app, make_department, make_user):
    """zhang (DEMO) and li (NORTH) both hold 0001; wang (NORTH) holds 0002."""
    demo = make_department("AI", "人工智能技术应用系", institution="DEMO")
    north = make_department("NAI", "北城人工智能系", institution="NORTH")
    people = {
        "zhang": make_user("zhang", department=demo),
        "li": make_user("li", department=north),
        "wang": make_user("wang", department=north),
    }
    _number(app, people["zhang"].id, "0001")
    _number(app, people["li"].id, "0001")
    _number(app, people["wang"].id, "0002")
    return people


def test_college_code_and_number_name_one_teacher(app, make_department, make_user):
    """The form new logins take (<college code>-<工号>) names the teacher on a
    sign-in sheet too; a staff number that itself holds a hyphen still matches."""
    people = _three_colleges(app, make_department, make_user)
    _number(app, people["wang"].id, "NORTH-7")
    with app.app_context():
        found, unknown, _ambiguous = find_teachers(
            ["NORTH-0001", "demo-0001", "NORTH-7", "X-0001"]
        )
        named = {entry: user.username for entry, user in found.items()}
    assert named == {"NORTH-0001": "li", "demo-0001": "zhang", "NORTH-7": "wang"}
    assert unknown == ["X-0001"]


def test_a_shared_number_names_the_teacher_with_a_place(
    app, make_department, make_user
) -> None:
    """At an event, a 工号 two colleges use names the one of them registered for it;
    held by nobody registered, it is said to be ambiguous, not unknown."""
    people = _three_colleges(app, make_department, make_user)
    created = utcnow()
    event = make_event(app, created=created)
    other = make_event(app, created=created, title="另一场讲座")
    register_teacher(app, people["li"], event.id, created)
    with app.app_context():
        found, unknown, _ambiguous = find_teachers(["0001"], event_id=event.id)
        assert {e: u.username for e, u in found.items()} == {"0001": "li"}
        assert unknown == []
        found, unmatched, ambiguous = find_teachers(
            ["0001", "nobody"], event_id=other.id
        )
        assert found == {}
        assert unmatched == ["0001", "nobody"]
        assert ambiguous == ["0001"]


def test_the_list_page_says_which_numbers_are_ambiguous(
    app, client, auth, make_department, make_user
) -> None:
    people = _three_colleges(app, make_department, make_user)
    make_user("staff1", Role.STAFF, locale="en")
    now = utcnow()
    created = now - timedelta(hours=2)
    event = make_event(app, created=created, starts_at=now - timedelta(minutes=5))
    register_teacher(app, people["wang"], event.id, created)
    with app.app_context():
        key = list_sessions(db.session.get_one(Event, event.id))[0].key
    auth.login("staff1")
    response = client.post(
        f"/checkin/events/{event.id}/sessions/{key}/attend-list",
        data={"entries": "0001 0002 nobody"},
        follow_redirects=True,
    )
    text = response.text
    assert "1 marked as attended, 0 already marked." in text
    assert "No teacher has these usernames or staff numbers: nobody" in text
    assert (
        "Teachers of several colleges have these staff numbers; write the college "
        "code and the number (CODE-0001) or the username instead: 0001"
    ) in text
