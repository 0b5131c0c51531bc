"""The public check page, /verify/<number>: no login, rate-limited per client address.

The counters are the login throttle's (database rows), so the limit holds across
every gunicorn worker: each look-up is charged to the client's address, the
first ``VERIFY_FREE_PER_ADDRESS`` in a window go through at once, then each must
wait a doubling delay. A number cannot be guessed (80 random bits), and this
bounds how fast anyone could try.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _

from pdtracker.auth import throttle
from pdtracker.auth.throttle import Limit
from pdtracker.papers.checking import check_view
from pdtracker.papers.services import paper_by_number
from pdtracker.timeutil import local_today, utcnow

bp = Blueprint("verify", __name__)

VERIFY_FREE_PER_ADDRESS = 60
NUMBER_MAX = 32


def _limit() -> Limit:
    address = (request.remote_addr or "unknown")[:64]
    free = int(
        current_app.config.get("VERIFY_FREE_PER_ADDRESS", VERIFY_FREE_PER_ADDRESS)
    )
    return Limit(f"verify:address:{address}", free)


@bp.route("/verify/<string(maxlength=32):number>")
def check(number: str):
    """Show what a paper claims and whether it is valid today (404 if unknown)."""
    now = utcnow()
    verdict = throttle.reserve([_limit()], now)
    if not verdict.allowed:
        wait = format_timedelta(verdict.retry_after, threshold=1.0, add_direction=False)
        body = render_template(
            "papers/verify_wait.html",
            message=_(
                "Too many checks. Please wait %(wait)s and try again.", wait=wait
            ),
        )
        response = current_app.make_response((body, 429))
        response.headers["Retry-After"] = str(verdict.retry_seconds)
    else:
        paper = paper_by_number(number.strip().upper())
        if paper is None:
            abort(404)
        view = check_view(paper, local_today(now))
        response = current_app.make_response(
            render_template("papers/verify.html", view=view)
        )
    return response


@bp.after_request
def no_store(response):
    """No browser or proxy may keep an old answer: a paper can be revoked any day."""
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Expires", None)
    return response
