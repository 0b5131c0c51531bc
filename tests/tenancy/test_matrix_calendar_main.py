"""Calendar feeds, the landing page and the account pages across two colleges.

A head's department feed lists their department's teachers only, never another
college's; only teachers and heads get private feeds; each role lands on its
own start page; the account pages show nothing of another college.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from pdtracker.timeutil import utcnow
from tests import factories
from tests.tenancy.conftest import ACTORS, ROLES


@pytest.fixture
def placements(app, two_colleges):
    """An approved placement a fortnight away for a teacher of each college."""
    start = utcnow().date() + timedelta(days=14)
    for side in ("own", "other"):
        factories.make_placement(
            app,
            two_colleges["teacher"][side],
            starts_on=start,
            ends_on=start + timedelta(days=9),
            status="approved",
        )
    return two_colleges


def _feed_paths(client) -> dict[str, str]:
    page = client.get("/calendar/").get_data(as_text=True)
    paths = {}
    for url in re.findall(r'https?://[^"\s<]+\.ics', page):
        path = urlsplit(url).path
        kind = "teacher" if "/t/" in path else "department" if "/d/" in path else ""
        if kind:
            paths[kind] = path
    return paths


# Which private feeds each role gets: teacher1 a teacher feed, head1 both.
FEEDS = {
    "teacher": {"teacher"},
    "head": {"teacher", "department"},
    "college_admin": set(),
    "staff": set(),
    "admin": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_private_feeds_by_role(client, auth, placements, role) -> None:
    auth.login(ACTORS[role])
    assert client.get("/calendar/").status_code == 200
    paths = _feed_paths(client)
    assert set(paths) == FEEDS[role]
    auth.logout()
    for path in paths.values():
        feed = client.get(path)
        assert feed.status_code == 200
        text = feed.get_data(as_text=True)
        assert "north_teacher" not in text
        assert "北城" not in text


def test_department_feed_lists_the_department_only(client, auth, placements):
    auth.login("head1")
    path = _feed_paths(client)["department"]
    auth.logout()
    text = client.get(path).get_data(as_text=True)
    assert "teacher1" in text
    assert "north_teacher1" not in text


@pytest.mark.parametrize("role", ROLES)
def test_rotating_a_feed_one_does_not_have_is_404(client, auth, two_colleges, role):
    auth.login(ACTORS[role])
    for scope in ("teacher", "department"):
        response = client.post(f"/calendar/rotate/{scope}")
        expected = 302 if scope in FEEDS[role] else 404
        assert response.status_code == expected


def test_another_colleges_token_never_opens_an_account_feed(client, auth, two_colleges):
    auth.login("north_head1")
    north = _feed_paths(client)
    auth.logout()
    auth.login("head1")
    # Another scope's path with the same token is not found.
    swapped = north["department"].replace("/d/", "/t/")
    assert client.get(swapped).status_code == 404


HOMES = {
    "teacher": "/progress/",
    "head": "/progress/",  # head1 also teaches: the first role wins
    "college_admin": "/admin/users",
    "staff": "/events/manage",
    "admin": "/admin/users",
}


@pytest.mark.parametrize("role", ROLES)
def test_landing_page_by_role(client, auth, two_colleges, role) -> None:
    auth.login(ACTORS[role])
    response = client.get("/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path.rstrip("/") == HOMES[
        role
    ].rstrip("/")


@pytest.mark.parametrize("role", ROLES)
def test_account_pages_show_nothing_of_another_college(
    client, auth, two_colleges, table_rows, role
) -> None:
    auth.login(ACTORS[role])
    before = table_rows()
    for path in ("/settings", "/notifications/"):
        response = client.get(path)
        if response.status_code == 404:
            continue
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "north_teacher" not in text
        assert "北城" not in text
    assert table_rows(["activities", "users", "departments"]) == {
        k: before[k] for k in ("activities", "users", "departments")
    }


def test_the_navigation_follows_the_college_admin(client, auth, two_colleges):
    auth.login("cadmin1")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/departments"' in page
    assert 'href="/imports/"' in page
    assert 'href="/admin/institutions"' not in page
    auth.logout()
    auth.login("admin")
    assert 'href="/admin/institutions"' in client.get("/admin/users").get_data(
        as_text=True
    )


def test_a_mentor_lands_on_their_enterprises_placements(app, client, auth) -> None:
    from tests.factories import make_user

    make_user(app, "mentor9", "mentor")
    auth.login("mentor9")
    response = client.get("/")
    assert urlsplit(response.headers["Location"]).path.rstrip("/") == "/placements"
