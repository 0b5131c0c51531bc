"""Department names in English where set (issue 15: "Department names have their
English names where set"), on the pages that list people with their departments:
the admin's users (table and filter), an event's registrations and a session's
attendance. Chinese pages keep the Chinese name; a department without an English
name keeps its name in both.
"""

from __future__ import annotations

import pytest

from pdtracker.extensions import db
from tests import factories

EN = factories.AI_NAME_EN  # what the shared ``named`` fixture sets
ZH = "人工智能技术应用系"


@pytest.fixture
def registered(app, world, named) -> tuple[int, str]:
    """A published event with teacher1 registered; (event id, its session key)."""
    from pdtracker.events.sessions import list_sessions
    from pdtracker.timeutil import utcnow

    event = factories.make_event(app, created=utcnow())
    factories.register_teacher(app, world["teacher1"], event.id, utcnow())
    with app.app_context():
        from pdtracker.events.models import Event

        key = list_sessions(db.session.get_one(Event, event.id))[0].key
    return event.id, key


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("en", EN, ZH), ("zh", ZH, EN)]
)
def test_admin_users_name_departments_in_the_pages_language(
    client, auth, named, locale, shown, hidden
) -> None:
    html = auth.page("admin", locale, "/admin/users")
    assert shown in html
    assert hidden not in html  # neither in the table nor in the filter's choices


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("en", EN, ZH), ("zh", ZH, EN)]
)
def test_registrations_name_departments_in_the_pages_language(
    client, auth, registered, locale, shown, hidden
) -> None:
    event_id, key = registered
    for url in (
        f"/events/{event_id}/registrations",
        f"/checkin/events/{event_id}/sessions/{key}/attendance",
    ):
        html = auth.page("staff1", locale, url)
        assert shown in html, url
        assert hidden not in html, url


def test_a_department_without_an_english_name_keeps_its_name(
    client, auth, world
) -> None:
    assert ZH in auth.page("admin", "en", "/admin/users")


@pytest.mark.parametrize(
    ("locale", "shown", "hidden"), [("en", EN, ZH), ("zh", ZH, EN)]
)
def test_exports_name_departments_in_the_exporters_language(
    client, auth, registered, locale, shown, hidden
) -> None:
    event_id, key = registered
    for url in (
        f"/events/{event_id}/registrations.csv",
        f"/checkin/events/{event_id}/sessions/{key}/attendance.csv",
        f"/checkin/events/{event_id}/attendance.csv",
    ):
        text = auth.page("staff1", locale, url)
        assert shown in text, url
        assert hidden not in text, url
