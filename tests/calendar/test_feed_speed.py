"""The feeds' fast path answers byte for byte as the straightforward view did.

The views keep the validators of each feed, the day's window and the request's
host URL per app instead of working them out on every request. A reference
route below does it the old way, one request at a time (the view as it was
before, with the window and base URL as they were computed): every answer of
the real routes (200, the 304s, HEAD, other hosts, a bad token) must carry the
same status, the same headers in the same order and the same body.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask, Response, current_app, request
from werkzeug.http import http_date

from pdtracker.calendar import handles, views
from pdtracker.calendar import services as svc
from pdtracker.calendar.models import FeedScope
from pdtracker.timeutil import app_zone, to_local, utcnow
from tests.calendar.feedkit import FeedKit, get


def _old_window(now: datetime) -> handles.FeedWindow:
    config = current_app.config
    zone = app_zone()
    day = to_local(now, zone).date()
    start = day - timedelta(days=config["FEED_PAST_DAYS"])
    end = day + timedelta(days=config["FEED_FUTURE_DAYS"])

    def midnight(d: date) -> datetime:
        return datetime.combine(d, time(), zone).astimezone(UTC)

    return handles.FeedWindow(
        day=day,
        start=start,
        end=end,
        start_utc=midnight(start),
        end_utc=midnight(end),
        day_start_utc=midnight(day),
        cancelled_since=midnight(day) - handles.CANCELLED_KEPT,
    )


def _old_response(handle: handles.FeedHandle, filename: str, private: bool) -> Response:
    window = _old_window(utcnow())
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    etag = handles.etag_of(handle, window, base)
    last_modified = handles.last_modified_of(handle, window)
    headers = {
        "ETag": f'"{etag}"',
        "Last-Modified": http_date(last_modified),
        "Cache-Control": f"{'private' if private else 'public'}, max-age=900",
    }
    if private:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    if "If-None-Match" in request.headers:
        fresh = request.if_none_match.contains_weak(etag)
    else:
        since = request.if_modified_since
        fresh = since is not None and last_modified <= since
    if fresh:
        return Response(status=304, headers=headers)
    body = svc.render_feed(handle, window, base)
    response = Response(body, status=200, headers=headers)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _with_reference(app: Flask) -> None:
    def teacher(token: str) -> Response:
        handle = handles.resolve_token(token, FeedScope.TEACHER)
        if handle is None:
            return views._not_found()
        return _old_response(handle, "pdtracker-teacher.ics", True)

    def department(token: str) -> Response:
        handle = handles.resolve_token(token, FeedScope.DEPARTMENT)
        if handle is None:
            return views._not_found()
        return _old_response(handle, "pdtracker-department.ics", True)

    def public() -> Response:
        return _old_response(handles.public_handle(), "association.ics", False)

    app.add_url_rule("/ref/t/<token>.ics", "ref_teacher", teacher)
    app.add_url_rule("/ref/d/<token>.ics", "ref_department", department)
    app.add_url_rule("/ref/association.ics", "ref_public", public)


@pytest.fixture
def urls(app, world) -> list[str]:
    kit = FeedKit(app)
    event = kit.event(title="数控机床新技术讲座")
    kit.register(world["teacher1"], event)
    _with_reference(app)
    return [
        kit.url(world["teacher1"]),
        kit.url(world["head1"], FeedScope.DEPARTMENT),
        "/calendar/association.ics",
    ]


def _same(app: Flask, url: str, method: str = "GET", **headers: str) -> Response:
    ours = get(app, url, method, **headers)
    reference = get(app, url.replace("/calendar/", "/ref/"), method, **headers)
    assert ours.status_code == reference.status_code, (url, method, headers)
    assert list(ours.headers) == list(reference.headers), (url, method, headers)
    assert ours.data == reference.data, (url, method, headers)
    return ours


def test_every_answer_is_the_old_one_byte_for_byte(app, urls) -> None:
    for url in urls:
        full = _same(app, url)
        assert full.status_code == 200
        assert full.data.startswith(b"BEGIN:VCALENDAR")
        etag, modified = full.headers["ETag"], full.headers["Last-Modified"]
        for _twice in range(2):  # the second time from what the app kept
            assert _same(app, url).data == full.data
            assert _same(app, url, **{"If-None-Match": etag}).status_code == 304
        assert _same(app, url, **{"If-None-Match": f"W/{etag}"}).status_code == 304
        assert _same(app, url, **{"If-None-Match": f'"x", {etag}'}).status_code == 304
        assert _same(app, url, **{"If-None-Match": "*"}).status_code == 304
        assert _same(app, url, **{"If-None-Match": ""}).status_code == 200
        assert _same(app, url, **{"If-None-Match": '"stale"'}).status_code == 200
        stale_tag = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
        assert _same(app, url, **stale_tag).status_code == 200
        assert _same(app, url, **{"If-Modified-Since": modified}).status_code == 304
        assert _same(app, url, **{"If-Modified-Since": "garbage"}).status_code == 200
        head = _same(app, url, "HEAD")
        assert head.status_code == 200
        assert head.data == b""
        assert _same(app, url, "HEAD", **{"If-None-Match": etag}).status_code == 304
        other_host = _same(app, url, Host="feeds.example.org")
        assert b"feeds.example.org" in other_host.data
        assert other_host.headers["ETag"] != etag
        assert _same(app, url).headers["ETag"] == etag  # the first host again
    _same(app, "/calendar/t/" + "x" * 43 + ".ics")  # unknown token: the bare 404


def test_the_public_base_url_setting_wins_over_the_host(app, urls) -> None:
    before = get(app, urls[2]).headers["ETag"]
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu/"
    after = _same(app, urls[2], Host="elsewhere.example")
    assert after.headers["ETag"] != before
    assert b"elsewhere.example" not in after.data


def test_the_window_moves_at_local_midnight_and_with_the_settings(app) -> None:
    zone = "Asia/Shanghai"
    with app.test_request_context():
        app.config["TIMEZONE"] = zone
        late = datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
        assert handles.feed_window(late) == _old_window(late)
        assert handles.feed_window(late).day == date(2026, 3, 1)
        midnight = late + timedelta(seconds=1)
        assert handles.feed_window(midnight).day == date(2026, 3, 2)
        assert handles.feed_window(late).day == date(2026, 3, 1)  # a clock set back
        app.config["FEED_PAST_DAYS"] += 1  # the same instant, other settings
        assert handles.feed_window(late) == _old_window(late)
        assert handles.feed_window(midnight).day == date(2026, 3, 2)
        app.config["TIMEZONE"] = "UTC"
        assert handles.feed_window(midnight).day == date(2026, 3, 1)
        assert handles.feed_window(midnight) == _old_window(midnight)
