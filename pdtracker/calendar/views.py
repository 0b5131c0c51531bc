"""Feeds over HTTP (no login, no cookies) and the subscribe page.

A feed request resolves its token and the feed's state in one query, answers a
matching conditional GET with 304 before building anything, and otherwise serves
the cached bytes of this feed version (docs/calendar-feeds.md F16). Tokens never reach a log:
nothing here logs the URL, and a bad token gets a bare 404 without a page (a page
would start a session).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.http import http_date

from pdtracker.caching import LRU, per_app
from pdtracker.calendar import handles
from pdtracker.calendar import services as svc
from pdtracker.calendar.models import FeedScope
from pdtracker.extensions import csrf, db
from pdtracker.timeutil import utcnow

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

MAX_AGE = 900
FEED_LABELS = {
    FeedScope.TEACHER: _l("My calendar"),
    FeedScope.DEPARTMENT: _l("Department calendar"),
    "public": _l("Association events"),
}
FEED_HELP = {
    FeedScope.TEACHER: _l(
        "Your registrations, enterprise placements and planned activities."
    ),
    FeedScope.DEPARTMENT: _l(
        "Placements and event registrations of your department's teachers,"
        " by name only."
    ),
    "public": _l("Every published event of the association."),
}


@bp.get("/association.ics")
@csrf.exempt
def association_feed() -> Response:
    """The association's public feed (operators rely on this path)."""
    return _feed_response(handles.public_handle(), "association.ics", private=False)


@bp.get("/t/<token>.ics")
@csrf.exempt
def teacher_feed(token: str) -> Response:
    """A teacher's private feed."""
    return _private_feed(token, FeedScope.TEACHER, "pdtracker-teacher.ics")


@bp.get("/d/<token>.ics")
@csrf.exempt
def department_feed(token: str) -> Response:
    """A department head's feed of the department."""
    return _private_feed(token, FeedScope.DEPARTMENT, "pdtracker-department.ics")


def _private_feed(token: str, scope: FeedScope, filename: str) -> Response:
    """The feed a token of the scope opens; a bare 404 for any other token."""
    handle = handles.resolve_token(token, scope)
    if handle is None:
        return _not_found()
    return _feed_response(handle, filename, private=True)


def _not_found() -> Response:
    """A bare 404: no error page, so no session and no cookie."""
    response = Response("Not Found\n", status=404, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _feed_response(
    handle: handles.FeedHandle, filename: str, *, private: bool
) -> Response:
    window = handles.feed_window(utcnow())
    base = handles.base_url()
    etag, last_modified, headers = _validators(handle, window, base, private)
    if _not_modified(etag, last_modified):
        return Response(status=304, headers=headers)
    body = svc.render_feed(handle, window, base, etag=etag)
    # In the order the headers had when the view set them one by one.
    return Response(
        body,
        status=200,
        headers=[
            *headers,
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Content-Disposition", f'inline; filename="{filename}"'),
        ],
    )


_Validators = tuple[str, datetime, tuple[tuple[str, str], ...]]
_VALIDATORS = "pdtracker_feed_validators"
VALIDATORS_KEPT = 4096  # feeds a worker answers validators for without rework


def _validators(
    handle: handles.FeedHandle, window: handles.FeedWindow, base: str, private: bool
) -> _Validators:
    """The ETag, Last-Modified and the headers every answer of this feed sends.

    A pure function of its arguments (and the app's settings), kept per app: most
    feed requests are conditional, and hashing the ETag, formatting the date and
    building the headers cost more than the rest of a 304.
    """
    kept: LRU[tuple, _Validators] = per_app(
        current_app, _VALIDATORS, lambda: LRU(VALIDATORS_KEPT)
    )
    key = (handle, window.day, window.day_start_utc, base, private)
    found = kept.get(key)
    if found is None:
        etag = handles.etag_of(handle, window, base)
        last_modified = handles.last_modified_of(handle, window)
        headers = [
            ("ETag", f'"{etag}"'),
            ("Last-Modified", http_date(last_modified)),
            (
                "Cache-Control",
                f"{'private' if private else 'public'}, max-age={MAX_AGE}",
            ),
        ]
        if private:
            headers.append(("X-Robots-Tag", "noindex, nofollow"))
        found = (etag, last_modified, tuple(headers))
        kept.put(key, found)
    return found


def _not_modified(etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    environ = request.environ
    if (match := environ.get("HTTP_IF_NONE_MATCH")) is not None:
        # What a client sends back is almost always the ETag itself: no parsing then.
        return match == f'"{etag}"' or request.if_none_match.contains_weak(etag)
    if "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False
    since = request.if_modified_since  # None when unparsable
    return since is not None and last_modified <= since


# --- subscribe page ---------------------------------------------------------------


def _feed_url(endpoint: str, **values: Any) -> str:
    """The feed's absolute URL as subscribers should use it."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _links(key: str, url: str) -> dict:
    """The https link, the webcal:// link and Google Calendar's add-by-URL link."""
    webcal = "webcal://" + url.split("://", 1)[1]
    return {
        "key": key,
        "label": FEED_LABELS[key],
        "help": FEED_HELP[key],
        "url": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid="
        + quote(webcal, safe=""),
        "private": key != "public",
    }


@bp.route("/")
@login_required
def subscribe():
    """Links to every feed this user may subscribe to, with copy buttons."""
    now = utcnow()
    feeds = []
    for scope in svc.feed_scopes(current_user):
        token = svc.token_for(current_user, scope, now)
        endpoint = (
            "calendar.teacher_feed"
            if scope is FeedScope.TEACHER
            else "calendar.department_feed"
        )
        feeds.append(_links(scope, _feed_url(endpoint, token=token.token)))
    feeds.append(_links("public", _feed_url("calendar.association_feed")))
    db.session.commit()  # tokens created on first visit
    return render_template("calendar/subscribe.html", feeds=feeds)


@bp.post("/rotate/<scope>")
@login_required
def rotate(scope: str):
    """Give a private feed a new URL; the old one answers 404 from now on."""
    try:
        chosen = FeedScope(scope)
    except ValueError:
        return _not_found()
    if chosen not in svc.feed_scopes(current_user):
        return _not_found()
    svc.rotate_token(current_user, chosen, utcnow())
    db.session.commit()
    flash(
        _("The feed has a new address. Subscribe again with the new link."),
        "success",
    )
    return redirect(url_for("calendar.subscribe"))
