"""The association dashboard (/association/): for association staff and the admin.

Thin: the figures come from :mod:`.services` (stored standings and aggregate
queries), the charts' geometry from :mod:`.charts`, the files from :mod:`.exports`.
Other roles get 403 (``role_required``). Signed-in pages carry
``Cache-Control: private, no-store`` (pdtracker.security).
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, send_file
from flask_babel import get_locale

from pdtracker.association import exports, services
from pdtracker.association.charts import Chart, bar_chart
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.timeutil import app_zone, local_today, utcnow

bp = Blueprint("association", __name__, url_prefix="/association")


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _overview() -> services.Overview:
    now = utcnow()
    return services.overview(local_today(now), now, app_zone())


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
    view = _overview()
    locale = str(get_locale())
    return render_template(
        "association/index.html",
        view=view,
        charts=_charts(view, locale),
        locale=locale,
        percent=_percent,
        top_enterprises=view.enterprises[: services.PAGE_ENTERPRISES],
    )


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
