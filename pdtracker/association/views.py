"""The association dashboard (/association/): for association staff and the admin.

Thin: the figures come from :mod:`.services` (stored standings and aggregate
queries), the charts' geometry from :mod:`.charts`, the files from :mod:`.exports`.
Other roles get 403 (``role_required``). Signed-in pages carry
``Cache-Control: private, no-store`` (pdtracker.security).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_babel import get_locale, get_timezone
from markupsafe import Markup

from pdtracker.association import exports, services
from pdtracker.association.charts import Chart, bar_chart
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.caching import LRU, per_app
from pdtracker.timeutil import app_zone, local_today, utcnow

bp = Blueprint("association", __name__, url_prefix="/association")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


# How long a computed overview is served at most. Its status figures only move
# when the standings tick stores something (the key sees that at once); events,
# registrations and placements show within this time.
CACHE_SECONDS = 120


@dataclass
class _Cached:
    view: services.Overview
    # The rendered data part per (locale, zone): a warm page renders only its frame.
    fragments: dict[tuple[str, str], Markup] = field(default_factory=dict)


def _cached() -> _Cached:
    """The overview from this worker's cache while its key holds (one query), else
    computed afresh (six more)."""
    now = utcnow()
    today = local_today(now)
    key = (today, *services.fingerprint())
    cache: LRU[tuple, _Cached] = per_app(current_app, "association", lambda: LRU(4))
    found = cache.get(key, now)
    if found is None:
        found = _Cached(services.overview(today, now, app_zone()))
        cache.put(key, found, now + timedelta(seconds=CACHE_SECONDS))
    return found


def _overview() -> services.Overview:
    return _cached().view


def _charts(view: services.Overview, locale: str) -> dict[str, Chart]:
    colleges = view.colleges
    return {
        "ratio": bar_chart(
            [(c.name, (c.ratio, c.ratio_in_12),
              (_percent(c.ratio), _percent(c.ratio_in_12))) for c in colleges],
            scale=1.0, marker=view.target,
        ),
        "attendance": bar_chart(
            [(c.name, (c.attendance_rate,), (_percent(c.attendance_rate),))
             for c in colleges],
            scale=1.0,
        ),
        "days": bar_chart(
            [(c.name, (c.days_completed, c.days_planned),
              (str(c.days_completed), str(c.days_planned))) for c in colleges],
        ),
        "shortfalls": bar_chart(
            [(f"{d.label(locale)} {d.month.strftime('%Y-%m')}", (d.demand, d.seats),
              (str(d.demand), str(d.seats))) for d in view.shortfalls],
        ),
    }  # fmt: skip


@bp.route("/")
@role_required(Role.STAFF, Role.ADMIN)
def index():
    """Member colleges, enterprises and events at a glance."""
    cached = _cached()
    view, locale = cached.view, str(get_locale())
    key = (locale, str(get_timezone()))
    body = cached.fragments.get(key)
    if body is None:
        body = Markup(
            render_template(
                "association/_body.html",
                view=view,
                charts=_charts(view, locale),
                locale=locale,
                percent=_percent,
                top_enterprises=view.enterprises[: services.PAGE_ENTERPRISES],
            )
        )
        cached.fragments[key] = body
    return render_template("association/index.html", body=body)


@bp.route("/<name>.xlsx")
@role_required(Role.STAFF, Role.ADMIN)
def export(name: str):
    """One table of the dashboard as an Excel workbook."""
    if name not in exports.TABLES:
        abort(404)
    view = _overview()
    body = exports.to_xlsx(name, view, str(get_locale()))
    return send_file(
        io.BytesIO(body),
        mimetype=exports.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"association-{name}-{view.today.isoformat()}.xlsx",
        max_age=0,
    )
