"""The two-college cast itself: people belong to the college of their department."""

from __future__ import annotations

from pdtracker.auth.models import User
from pdtracker.extensions import db


def test_people_belong_to_their_departments_college(app, two_colleges) -> None:
    w = two_colleges
    with app.app_context():
        college = {
            u.username: u.institution_id for u in db.session.scalars(db.select(User))
        }
    assert college["teacher1"] == college["head1"] == college["cadmin1"] == w["demo"].id
    assert college["north_teacher1"] == college["cadmin2"] == w["north"].id
    assert college["staff1"] is None
    assert college["admin"] is None
    assert w["demo_ai"].institution_id != w["north_ai"].institution_id


def test_table_rows_sees_a_changed_column(app, two_colleges, table_rows) -> None:
    before = table_rows(["activities"])
    with app.app_context():
        db.session.execute(
            db.text("UPDATE activities SET title = 'x' WHERE id = :i"),
            {"i": two_colleges["activity"]["other"].id},
        )
        db.session.commit()
    assert table_rows(["activities"]) != before
