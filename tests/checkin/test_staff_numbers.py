"""A pasted sign-in list names teachers of every college: a 工号 two colleges
use names no one teacher, so it matches nobody (the login does)."""

from __future__ import annotations

from pdtracker.checkin.marking import find_teachers
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile


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
        found, unknown = find_teachers(["0001", "0002", "zhang"])
        named = {entry: user.username for entry, user in found.items()}
    assert named == {"0002": "wang", "zhang": "zhang"}
    assert unknown == ["0001"]
