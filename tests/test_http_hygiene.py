"""App-wide HTTP promises: ids out of range are 404s, error pages always render.

The routes are walked from ``app.url_map``, so a route added later is covered too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from pdtracker.auth.models import Role
from pdtracker.extensions import db

# Beyond PostgreSQL's integer (2**31 - 1) and beyond any 64-bit integer.
HUGE_IDS = (2**31, 2**70)


@pytest.fixture
def everyone(app, client, auth, world, make_user):  # noqa: ANN001, ANN201
    """Logged in as a user holding every role, so no route stops at a 403."""
    make_user("root", *Role, department=world["ai"])
    auth.login("root")
    client.post("/language", data={"locale": "en"})
    return world


def _id_routes(app) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(endpoint, method, rule) for every route with an <int:...> part."""
    out = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, rule.rule))
    return out


def test_every_id_route_is_404_for_ids_out_of_range(app, client, everyone) -> None:
    routes = _id_routes(app)
    assert len(routes) > 30  # the walk found the app's routes
    for huge in HUGE_IDS:
        for endpoint, method, rule in routes:
            url = re.sub(r"<int:\w+>", str(huge), rule)
            url = re.sub(r"<[^>]+>", "x", url)
            response = client.open(url, method=method)
            assert response.status_code == 404, (endpoint, method, url)
            page = response.get_data(as_text=True)
            assert "This page does not exist" in page, (endpoint, url)


def test_a_failing_view_gets_a_500_page_with_content(app, client, everyone) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    def broken():  # noqa: ANN202
        raise RuntimeError("a bug")

    app.view_functions["main.index"] = broken
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "Log out" in page  # the full page, with the navigation bar


def test_the_500_page_renders_when_the_database_is_gone(app, client, everyone) -> None:  # noqa: ANN001
    """The database fails mid-request: the error page needs none of it."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def refuse(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise ConnectionError("the database server went away")

    with app.app_context():
        engine = db.engine

    def breaks_the_database():  # noqa: ANN202
        event.listen(engine, "before_cursor_execute", refuse)
        db.session.expire_all()  # whatever the page reads must go to the database
        raise RuntimeError("a bug")

    app.view_functions["main.index"] = breaks_the_database
    try:
        response = client.get("/")
    finally:
        if event.contains(engine, "before_cursor_execute", refuse):
            event.remove(engine, "before_cursor_execute", refuse)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "<html" in page
