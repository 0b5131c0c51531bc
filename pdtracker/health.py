"""/healthz: is the web app up, is the database reachable, is the scheduler alive?

HTTP 200 while the web app and the database work, with ``"status": "degraded"``
when the scheduler's heartbeat is stale (web workers should keep serving: a load
balancer must not pull them because the scheduler process is down); 503 only when
the database cannot be reached. No login, no secrets, no CSRF.

``feed_listener`` tells whether this worker's feed directory is listening for
changes (PostgreSQL); when it is not, feeds stay correct but every request queries.
See docs/deployment.md D15.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pdtracker.calendar import directory
from pdtracker.extensions import csrf, db
from pdtracker.notifications.runs import heartbeat_is_fresh, last_heartbeat
from pdtracker.timeutil import utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """Report the web app, the database and the scheduler's heartbeat."""
    now = utcnow()
    try:
        db.session.execute(text("SELECT 1"))
        heartbeat = last_heartbeat()
    except SQLAlchemyError:
        logger.exception("health check: database unreachable")
        db.session.rollback()
        down = {"status": "error", "database": "error", "scheduler": None}
        return _no_store(jsonify(down)), 503
    fresh = heartbeat_is_fresh(heartbeat, now)
    body: dict[str, object] = {
        "status": "ok" if fresh else "degraded",
        "database": "ok",
        "scheduler": {
            "fresh": fresh,
            "last_heartbeat": heartbeat.beat_at.isoformat() if heartbeat else None,
        },
        "feed_listener": _feed_listener(),
    }
    return _no_store(jsonify(body)), 200


def _feed_listener() -> str:
    """ "listening", "connecting" or "off" (SQLite, or FEED_LISTEN = False).

    Asking starts the worker's listener if no feed request has yet.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app, not the proxy
    if directory.current(app) is None:
        return "off"
    listener = directory.listener(app)
    connected = listener is not None and listener.connected.is_set()
    return "listening" if connected else "connecting"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
