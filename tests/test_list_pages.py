"""List pages of every area survive odd query strings (page numbers, months, years)."""

from __future__ import annotations

import pytest

HUGE = "999999999999999999999"

PAGES = [
    ("teacher1", "/activities/"),
    ("teacher1", "/events/"),
    ("teacher1", "/placements/"),
    ("head1", "/activities/review"),
    ("head1", "/placements/"),
    ("staff1", "/events/manage"),
    ("admin", "/admin/users"),
]


@pytest.mark.parametrize(("username", "path"), PAGES)
@pytest.mark.parametrize("page", [HUGE, "-3", "abc", "0"])
def test_odd_page_numbers_give_a_page_not_an_error(
    client, auth, world, username: str, path: str, page: str
) -> None:
    auth.login(username)
    response = client.get(path, query_string={"page": page})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "month", ["9999-12", "0001-01", "2026-13", "2026-00", "abc", "10000-01"]
)
def test_event_list_ignores_months_it_cannot_show(client, auth, world, month) -> None:
    auth.login("teacher1")
    response = client.get("/events/", query_string={"month": month})
    assert response.status_code == 200


def test_event_list_keeps_an_ordinary_month(client, auth, world) -> None:
    auth.login("teacher1")
    response = client.get("/events/", query_string={"month": "2026-03"})
    assert response.status_code == 200
    assert b"2026-04" in response.data  # the link to the next month
