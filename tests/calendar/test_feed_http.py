"""The feeds' HTTP contract: headers, conditional GET, HEAD, change tracking, rotation."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from pdtracker.audit import AuditEntry
from pdtracker.auth.models import Role, User
from pdtracker.calendar import services as svc
from pdtracker.calendar.models import FeedScope
from pdtracker.events.registrations import register
from pdtracker.events.services import EventData, create_event, publish_event
from pdtracker.extensions import db
from pdtracker.timeutil import utcnow
from tests.calendar.feedkit import FeedKit, get, soon

PUBLIC = "/calendar/association.ics"


@pytest.fixture
def kit(app) -> FeedKit:
    """Factories bound to the app."""
    return FeedKit(app)


@pytest.fixture
def teacher_feed(kit, world) -> str:
    """teacher1's feed URL, with one registered event in it."""
    event = kit.event(title="数控机床新技术讲座")
    kit.register(world["teacher1"], event)
    return kit.url(world["teacher1"])


def lm(response) -> object:
    """Last-Modified as an aware datetime."""
    return parsedate_to_datetime(response.headers["Last-Modified"])


def test_public_feed_headers(app, kit) -> None:
    kit.event()
    response = get(app, PUBLIC)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'inline; filename="association.ics"'
    )
    assert response.headers["Cache-Control"] == "public, max-age=900"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])  # strong
    assert lm(response) <= utcnow()
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert "Set-Cookie" not in response.headers
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")


def test_private_feed_headers_and_no_login_or_cookie(app, teacher_feed) -> None:
    response = get(app, teacher_feed, **{"User-Agent": "Google-Calendar-Importer"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=900"
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "Set-Cookie" not in response.headers
    assert "数控机床新技术讲座".encode() in response.data


def test_conditional_get_sequence(app, teacher_feed) -> None:
    first = get(app, teacher_feed)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = get(app, teacher_feed, **{"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.data == b""
    assert by_etag.headers["ETag"] == etag
    assert by_etag.headers["Cache-Control"] == "private, max-age=900"
    assert "Set-Cookie" not in by_etag.headers
    by_date = get(app, teacher_feed, **{"If-Modified-Since": modified})
    assert by_date.status_code == 304
    # If-None-Match decides when present: a stale tag wins over a fresh date.
    stale = get(
        app, teacher_feed, **{"If-None-Match": '"stale"', "If-Modified-Since": modified}
    )
    assert stale.status_code == 200
    assert stale.data == first.data
    assert get(app, teacher_feed, **{"If-None-Match": f"W/{etag}"}).status_code == 304
    assert get(app, teacher_feed, **{"If-None-Match": "*"}).status_code == 304
    list_match = get(app, teacher_feed, **{"If-None-Match": f'"other", {etag}'})
    assert list_match.status_code == 304


def test_garbage_or_old_if_modified_since_gets_the_feed(app, teacher_feed) -> None:
    assert (
        get(app, teacher_feed, **{"If-Modified-Since": "yesterday"}).status_code == 200
    )
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(app, teacher_feed, **{"If-Modified-Since": old}).status_code == 200


def test_head_has_the_get_headers_and_no_body(app, teacher_feed) -> None:
    full = get(app, teacher_feed)
    head = get(app, teacher_feed, method="HEAD")
    assert head.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control"):
        assert head.headers[name] == full.headers[name]
    assert int(head.headers["Content-Length"]) == len(full.data)
    conditional = get(
        app, teacher_feed, method="HEAD", **{"If-None-Match": full.headers["ETag"]}
    )
    assert conditional.status_code == 304


def test_edit_cancel_delete_change_etag_and_move_last_modified_forward(
    app, kit, world
) -> None:
    event = kit.event(title="旧标题")
    other = kit.event(title="另一场讲座", starts_at=soon(12))
    kit.register(world["teacher1"], event)
    kit.register(world["teacher1"], other)
    url = kit.url(world["teacher1"])
    seen = [get(app, url)]

    kit.edit_event(event, title="新标题")
    seen.append(get(app, url))
    assert "新标题".encode() in seen[-1].data
    kit.cancel_event(event)
    seen.append(get(app, url))
    assert b"STATUS:CANCELLED" in seen[-1].data
    kit.delete_event(other)
    seen.append(get(app, url))
    assert "另一场讲座".encode() not in seen[-1].data

    etags = [r.headers["ETag"] for r in seen]
    assert len(set(etags)) == len(etags)
    dates = [lm(r) for r in seen]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)  # strictly forward, also on delete
    # A client holding an older version gets the new one by either validator.
    previous = seen[-2]
    assert (
        get(app, url, **{"If-None-Match": previous.headers["ETag"]}).status_code == 200
    )
    since = previous.headers["Last-Modified"]
    assert get(app, url, **{"If-Modified-Since": since}).status_code == 200


def test_unregistering_removes_the_event_and_bumps_the_feed(app, kit, world) -> None:
    event = kit.event(starts_at=soon(30))
    kit.register(world["teacher1"], event)
    url = kit.url(world["teacher1"])
    before = get(app, url)
    kit.unregister(world["teacher1"], event)
    after = get(app, url)
    assert event.uid.encode() in before.data
    assert event.uid.encode() not in after.data
    assert lm(after) > lm(before)


def test_other_teachers_changes_leave_my_feed_alone(app, kit, world) -> None:
    event = kit.event()
    kit.register(world["teacher1"], event)
    url = kit.url(world["teacher1"])
    before = get(app, url)
    elsewhere = kit.event(title="别人的讲座", starts_at=soon(3))
    kit.register(world["teacher2"], elsewhere)
    kit.activity(world["teacher2"])
    after = get(app, url, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 304


def test_304_is_answered_from_one_query_without_building(
    app, kit, teacher_feed, count_queries, monkeypatch
) -> None:
    first = get(app, teacher_feed)
    kit.clear_cache()

    def refuse(*args: object) -> bytes:
        raise AssertionError("a conditional GET must not build the feed")

    monkeypatch.setattr(svc, "build_feed", refuse)
    with count_queries() as counter:
        response = get(app, teacher_feed, **{"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 304
    assert counter.count == 1
    with count_queries() as counter:
        since = get(app, teacher_feed, **{"If-Modified-Since": lm(first).strftime(
            "%a, %d %b %Y %H:%M:%S GMT")})  # fmt: skip
    assert since.status_code == 304
    assert counter.count == 1


def test_unchanged_feed_is_served_from_the_cache(
    app, teacher_feed, count_queries, monkeypatch
) -> None:
    first = get(app, teacher_feed)

    def refuse(*args: object) -> bytes:
        raise AssertionError("an unchanged feed must come from the cache")

    monkeypatch.setattr(svc, "build_feed", refuse)
    with count_queries() as counter:
        again = get(app, teacher_feed)
    assert again.data == first.data
    assert counter.count <= 1  # none once the feed directory knows the URL


def _fill(app, teacher: User, enterprise_id: int, n: int) -> None:
    """n registered events, n/5 placements and n/5 planned activities."""
    from pdtracker.activities.models import Activity
    from pdtracker.placements.models import Placement

    now = utcnow()
    today = now.date()
    with app.app_context():
        user = db.session.get(User, teacher.id)
        for i in range(n):
            start = soon(1 + i % 300, 8 + i % 10)
            event = create_event(
                EventData(
                    kind_code="seminar",
                    title=f"研讨会 {i}",
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                ),
                None,
                now,
            )
            publish_event(event, None, now)
            register(user, event, now)
        for i in range(max(1, n // 5)):
            start = today + timedelta(days=40 + i)
            db.session.add(
                Placement(
                    teacher_id=teacher.id, enterprise_id=enterprise_id,
                    starts_on=start, ends_on=start + timedelta(days=3),
                    working_days=4, status="approved", created_at=now, updated_at=now,
                )
            )  # fmt: skip
            db.session.add(
                Activity(
                    teacher_id=teacher.id, kind_code="training", title=f"培训 {i}",
                    starts_on=start, status="planned",
                )
            )  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize("scope", [FeedScope.TEACHER, FeedScope.DEPARTMENT, None])
def test_feed_build_query_count_does_not_grow(
    app, kit, make_user, world, count_queries, scope
) -> None:
    enterprise = kit.enterprise()
    counts = []
    for n in (5, 100):
        teacher = make_user(f"t{n}", Role.TEACHER, department=world["ai"])
        _fill(app, teacher, enterprise.id, n)
        if scope is FeedScope.TEACHER:
            url = kit.url(teacher)
        elif scope is FeedScope.DEPARTMENT:
            url = kit.url(world["head1"], FeedScope.DEPARTMENT)
        else:
            url = PUBLIC
        kit.clear_cache()
        with count_queries() as counter:
            response = get(app, url)
        assert response.status_code == 200
        assert response.data.count(b"BEGIN:VEVENT") >= n
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 4


def test_bad_tokens_answer_a_bare_404(app, teacher_feed) -> None:
    token = teacher_feed.rsplit("/", 1)[1].removesuffix(".ics")
    for url in (
        f"/calendar/t/{secrets.token_urlsafe(32)}.ics",
        "/calendar/t/short.ics",
        "/calendar/t/" + "%27%20OR%201%3D1--" * 3 + ".ics",
        f"/calendar/t/{token}x.ics",
        f"/calendar/t/{token[:-1]}.ics",
    ):
        response = get(app, url)
        assert response.status_code == 404, url
        assert "Set-Cookie" not in response.headers
        assert response.mimetype == "text/plain"


def test_rotation_retires_the_old_url(app, client, auth, kit, world) -> None:
    event = kit.event()
    kit.register(world["teacher1"], event)
    old_url = kit.url(world["teacher1"])
    assert get(app, old_url).status_code == 200
    auth.login("teacher1")
    page = client.get("/calendar/")
    assert old_url in page.get_data(as_text=True)
    response = client.post("/calendar/rotate/teacher")
    assert response.status_code == 302
    assert get(app, old_url).status_code == 404
    new_url = kit.url(world["teacher1"])
    assert new_url != old_url
    assert new_url in client.get("/calendar/").get_data(as_text=True)
    fresh = get(app, new_url)
    assert fresh.status_code == 200
    assert event.uid.encode() in fresh.data
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "feed_token.rotate")
        ).all()
    assert [(e.actor_id, e.details) for e in entries] == [
        (world["teacher1"].id, {"scope": "teacher"})
    ]
    token = new_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in str(entries[0].details)


def test_rotating_needs_post_with_csrf_and_a_scope_the_user_has(
    app, client, auth, world
) -> None:
    auth.login("teacher1")
    assert client.get("/calendar/rotate/teacher").status_code == 405
    assert client.post("/calendar/rotate/department").status_code == 404
    assert client.post("/calendar/rotate/nonsense").status_code == 404
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/calendar/rotate/teacher").status_code == 400


def test_deactivated_teacher_or_former_head_loses_the_feed(app, kit, world) -> None:
    teacher_url = kit.url(world["teacher1"])
    department_url = kit.url(world["head1"], FeedScope.DEPARTMENT)
    assert get(app, teacher_url).status_code == 200
    assert get(app, department_url).status_code == 200
    kit.update(User, world["teacher1"].id, is_active_account=False)
    with app.app_context():
        head = db.session.get(User, world["head1"].id)
        head.set_roles({Role.TEACHER})
        db.session.commit()
    assert get(app, teacher_url).status_code == 404
    assert get(app, department_url).status_code == 404


def test_subscribe_page_lists_the_users_feeds(app, client, auth, world) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn/"
    auth.login("head1")
    html = client.get("/calendar/").get_data(as_text=True)
    tokens = re.findall(
        r"https://pd\.example\.edu\.cn/calendar/([td])/([\w-]+)\.ics", html
    )
    assert {kind for kind, _ in tokens} == {"t", "d"}
    assert "https://pd.example.edu.cn/calendar/association.ics" in html
    assert "webcal://pd.example.edu.cn/calendar/association.ics" in html
    for kind, token in tokens:
        assert f"webcal://pd.example.edu.cn/calendar/{kind}/{token}.ics" in html
        cid = f"webcal%3A%2F%2Fpd.example.edu.cn%2Fcalendar%2F{kind}%2F{token}.ics"
        assert f"https://calendar.google.com/calendar/r?cid={cid}" in html
    assert html.count('data-copy="feed-url-') == 3
    assert 'id="feed-url-teacher"' in html
    assert 'id="feed-url-department"' in html
    # The same tokens on the next visit: the page does not rotate them.
    again = client.get("/calendar/").get_data(as_text=True)
    assert set(re.findall(r"/calendar/([td])/([\w-]+)\.ics", again)) == set(tokens)


def test_subscribe_page_for_staff_shows_only_the_public_feed(
    client, auth, world
) -> None:
    auth.login("staff1")
    html = client.get("/calendar/").get_data(as_text=True)
    assert "/calendar/association.ics" in html
    assert "/calendar/t/" not in html
    assert "/calendar/d/" not in html


def test_subscribe_page_needs_login(client) -> None:
    response = client.get("/calendar/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
