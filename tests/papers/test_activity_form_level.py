"""The activity form sets the organiser level, and editing shows it again."""

from __future__ import annotations

from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db


def test_form_sets_and_shows_the_organiser_level(app, client, auth, people):
    auth.login("wxh")
    response = client.post(
        "/activities/new",
        data={
            "kind_code": "expert_lecture", "title": "省级讲座", "status": "completed",
            "role": "attendee", "starts_on": "2026-03-10", "ends_on": "2026-03-10",
            "hours": "3", "organizer": "省教育厅", "organizer_level": "province",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.text
    with app.app_context():
        activity = db.session.scalar(
            select(Activity).where(Activity.title == "省级讲座")
        )
        assert activity.organizer_level == "province"
        activity_id = activity.id
    page = client.get(f"/activities/{activity_id}/edit").text
    assert '<option selected value="province">' in page


def test_form_leaves_the_level_unstated(app, client, auth, people):
    auth.login("wxh")
    client.post(
        "/activities/new",
        data={"kind_code": "expert_lecture", "title": "讲座", "status": "completed",
              "role": "attendee", "starts_on": "2026-03-10", "hours": "3"},
    )  # fmt: skip
    with app.app_context():
        assert db.session.scalar(select(Activity.organizer_level)) is None


def test_form_refuses_an_unknown_level(app, client, auth, people):
    auth.login("wxh")
    response = client.post(
        "/activities/new",
        data={"kind_code": "expert_lecture", "title": "讲座", "status": "completed",
              "role": "attendee", "starts_on": "2026-03-10", "hours": "3",
              "organizer_level": "galactic"},
    )  # fmt: skip
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Activity.id)) is None
