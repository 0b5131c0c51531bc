"""App-wide HTTP promises: ids out of range are 404s, error pages always render.

The routes are walked from ``app.url_map``, so a route added later is covered too.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event

from pdtracker.auth.models import Role
from pdtracker.extensions import db

# Beyond PostgreSQL's integer (2**31 - 1) and beyond any 64-bit integer.
HUGE_IDS = (2**31, 2**70)


@pytest.fixture
def everyone(app, client, auth, world, make_user):
    """Logged in as a user holding every role, so no route stops at a 403."""
    make_user("root", *Role, department=world["ai"])
    auth.login("root")
    client.post("/language", data={"locale": "en"})
    return world


def _id_routes(app) -> list[tuple[str, str, str]]:
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

    def broken():
        raise RuntimeError("a bug")

    app.view_functions["main.index"] = broken
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "Log out" in page  # the full page, with the navigation bar


def test_the_500_page_renders_when_the_database_is_gone(app, client, everyone) -> None:
    """The database fails mid-request: the error page needs none of it."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def refuse(*_args, **_kwargs) -> None:
        raise ConnectionError("the database server went away")

    with app.app_context():
        engine = db.engine

    def breaks_the_database():
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


# --- Cache-Control: private pages and downloads are never stored ---------------

NO_STORE = "private, no-store"
# Feeds decide their own caching (ETag, max-age; calendar tests pin it) and static
# files stay cacheable.
OWN_CACHING = {"static", "calendar.association_feed", "calendar.teacher_feed",
               "calendar.department_feed"}  # fmt: skip


@pytest.fixture
def objects(app, everyone, make_activity):
    """One real row per id kind the routes take, so pages render, not just 404."""
    from pdtracker.events.services import EventData, create_event, publish_event
    from pdtracker.timeutil import utcnow
    from tests.events.conftest import soon

    activity = make_activity(everyone["teacher1"], status="completed")
    with app.app_context():
        data = EventData(
            kind_code="expert_lecture", title="讲座", starts_at=soon(),
            ends_at=soon(hour=3), credited_hours=2, location="报告厅",
        )  # fmt: skip
        event = create_event(data, None, utcnow())
        publish_event(event, None, utcnow())
        db.session.commit()
        event_id = event.id
    return {
        "activity_id": activity.id,
        "event_id": event_id,
        "user_id": everyone["teacher1"].id,
        "teacher_id": everyone["teacher1"].id,
        "department_id": everyone["ai"].id,
    }


def test_every_signed_in_get_is_private_no_store(app, client, objects) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in OWN_CACHING:
            continue
        if rule.endpoint == "auth.logout":
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(\w+:)?{name}>", str(objects.get(name, 1)), url)
        response = client.get(url)
        assert response.headers.get("Cache-Control") == NO_STORE, (url, response)
        checked += 1
    assert checked > 40


def test_downloads_are_private_no_store(app, client, objects) -> None:
    for url in (
        f"/events/{objects['event_id']}/registrations.csv",
        f"/events/{objects['event_id']}/registrations.xlsx",
        "/progress/department.csv",
        f"/progress/department.xlsx?department={objects['department_id']}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == NO_STORE, url


def _cache_control(client, url: str) -> str:
    with client.get(url) as response:  # closes a static file's handle
        return response.headers.get("Cache-Control", "")


def test_public_files_stay_cacheable(app, client, world) -> None:
    for url in ("/static/css/app.css", "/calendar/association.ics"):
        assert "no-store" not in _cache_control(client, url), url
    client.post("/login", data={"username": "teacher1", "password": "pdtracker-demo"})
    assert "no-store" not in _cache_control(client, "/static/css/app.css")
    feed = _cache_control(client, "/calendar/association.ics")
    assert feed.startswith("public, max-age=")


# --- 413: the page says the limit and leads back ---------------------------------


def test_too_large_upload_page_gives_the_limit_and_a_way_back(
    app, client, everyone
) -> None:
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    form_page = "http://pdtracker.test/admin/rulesets/new"
    huge = FileStorage(stream=io.BytesIO(b"x" * (13 * 1024 * 1024)), filename="r.toml")
    body, _, boundary = stream_encode_multipart({"file": huge}, use_tempfile=False)
    response = client.post(
        "/admin/rulesets/new",
        data=body.getvalue(),
        content_type=f'multipart/form-data; boundary="{boundary}"',
        headers={"Referer": form_page},
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "files can be at most 10 MB" in page
    assert f'href="{form_page}"' in page
    # A Referer from elsewhere is not followed.
    response = client.post(
        "/admin/rulesets/new",
        data=body.getvalue(),
        content_type=f'multipart/form-data; boundary="{boundary}"',
        headers={"Referer": "https://evil.example/"},
    )
    assert "evil.example" not in response.get_data(as_text=True)


def test_every_file_field_announces_its_types_and_size(
    app, client, everyone, make_activity
) -> None:
    """The browser refuses an oversize file from these before anything is sent."""
    from pdtracker.auth.models import User

    with app.app_context():
        root = db.session.scalar(db.select(User).filter_by(username="root"))
        db.session.expunge(root)
    activity = make_activity(root)
    pages = {
        "/activities/new": 10 * 1024 * 1024,
        f"/activities/{activity.id}": 10 * 1024 * 1024,
        "/admin/rulesets/new": None,  # its own, smaller FileSize
    }
    for url, limit in pages.items():
        page = client.get(url).get_data(as_text=True)
        assert "/static/js/upload-size.js" in page
        inputs = re.findall(r"<input[^>]*type=\"file\"[^>]*>", page)
        assert inputs, url
        for tag in inputs:
            assert "accept=" in tag, (url, tag)
            found = re.search(r'data-max-bytes="(\d+)"', tag)
            assert found, (url, tag)
            if limit:
                assert int(found.group(1)) == limit
            else:
                assert 0 < int(found.group(1)) < 10 * 1024 * 1024
            assert "data-too-large=" in tag


def test_ids_in_query_strings_out_of_range(app, client, everyone) -> None:
    huge = 2**70
    assert client.get(f"/admin/rulesets/new?from={huge}").status_code == 200
    assert client.get(f"/progress/department?department={huge}").status_code == 404


@pytest.mark.parametrize(
    ("url", "field", "limit"),
    [
        ("/placements/enterprises/new", "name", 200),
        ("/admin/departments/new", "name", 200),
        ("/admin/users/new", "display_name", 100),
    ],
)
def test_over_long_text_is_refused_with_the_text_kept(
    app, client, everyone, url, field, limit
) -> None:
    """Every text field is bounded like its column, with no maxlength to cut it."""
    form_page = client.get(url).get_data(as_text=True)
    assert "maxlength" not in form_page
    text = "长" * (limit + 1)
    response = client.post(url, data={field: text})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert text in page
    assert f"longer than {limit} characters" in page
