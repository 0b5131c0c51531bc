"""Teacher and department dashboards, and the department's exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_babel import get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.caching import LRU, per_app
from pdtracker.extensions import db
from pdtracker.org.display import department_name
from pdtracker.org.models import Department, Institution
from pdtracker.placements.path_offers import kept_path_offers
from pdtracker.progress import exports
from pdtracker.progress.cache import (
    department_summaries,
    department_summary,
    teacher_status,
)
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.engine import ProgressReport, RequirementResult
from pdtracker.progress.explain import explain
from pdtracker.progress.forecast import next_lapses
from pdtracker.progress.forms import DepartmentChoiceForm
from pdtracker.progress.records import ActiveRuleset, active_ruleset_for, kind_labels
from pdtracker.progress.services import (
    FORECAST_MONTHS,
    DepartmentSummary,
    TeacherStatus,
)
from pdtracker.progress.units import amount, localized, number, plural
from pdtracker.tenancy import is_deployment_admin, managed_institution, may_read_person

bp = Blueprint("progress", __name__, url_prefix="/progress")

# --- template helpers (also used by the admin ruleset pages) ----------------------


bp.add_app_template_global(localized)
bp.add_app_template_global(amount)


# Translated sentences repeat across a department's rows; gettext per row showed in
# profiles. The memo is exact: per app (its catalogs), a sentence depends only on
# the locale and these keys.
_SENTENCES_MAX = 20_000


def _memo(key: tuple, make: Callable[[], str]) -> str:
    memo: LRU[tuple, str] = per_app(
        current_app, "progress_sentences", lambda: LRU(_SENTENCES_MAX)
    )
    found = memo.get(key)
    if found is None:
        found = make()
        memo.put(key, found)
    return found


@bp.app_template_global()
def missing_sentence(result: RequirementResult) -> str:
    """What is still missing, in words: "还差 37 天企业实践"."""
    key = ("missing", str(get_locale()), result.code, result.unit, result.missing,
           result.name)  # fmt: skip
    return _memo(key, lambda: _missing_sentence(result))


def _missing_sentence(result: RequirementResult) -> str:
    num, name = number(result.missing), localized(result.name) or result.code
    if result.unit == "days":
        return ngettext(
            "%(n)s day of %(requirement)s still missing",
            "%(n)s days of %(requirement)s still missing",
            plural(result.missing), n=num, requirement=name,
        )  # fmt: skip
    if result.unit == "hours":
        return ngettext(
            "%(n)s hour of %(requirement)s still missing",
            "%(n)s hours of %(requirement)s still missing",
            plural(result.missing), n=num, requirement=name,
        )  # fmt: skip
    if result.unit == "years":
        return ngettext(
            "%(n)s year of %(requirement)s still missing",
            "%(n)s years of %(requirement)s still missing",
            plural(result.missing), n=num, requirement=name,
        )  # fmt: skip
    if result.unit == "alternatives":
        return ngettext(
            "%(n)s more alternative of %(requirement)s needed",
            "%(n)s more alternatives of %(requirement)s needed",
            plural(result.missing), n=num, requirement=name,
        )  # fmt: skip
    return ngettext(
        "%(n)s more %(requirement)s needed",
        "%(n)s more %(requirement)s needed",
        plural(result.missing), n=num, requirement=name,
    )  # fmt: skip


@bp.app_template_global()
def level_label(report: ProgressReport) -> str:
    """初级/中级/高级, "Not reached" or "Not assessed"."""
    level = (
        next((lv for lv in report.levels if lv.code == report.level), None)
        if report.assessed
        else None
    )
    key = ("level", str(get_locale()), report.assessed, report.level,
           None if level is None else level.name)  # fmt: skip
    return _memo(key, lambda: _level_label(report))


def _level_label(report: ProgressReport) -> str:
    if not report.assessed:
        return _("Not assessed")
    if report.level is None:
        return _("Not reached")
    level = next(lv for lv in report.levels if lv.code == report.level)
    return localized(level.name) or level.code


@bp.app_template_global()
def layer_label(active: ActiveRuleset) -> str:
    """Whose layer applied: the college's own, the regional one, or the default."""
    if active.layer == "college":
        return _("the college's own layer")
    if active.layer == "regional":
        return _("the regional layer")
    return _("the national default")


@bp.app_template_global()
def percent(share: float | None) -> str:
    """0.523 → "52.3%"; None → "—"."""
    return "—" if share is None else f"{share * 100:.1f}%"


@bp.app_template_global()
def ratio_chart(summary: DepartmentSummary) -> dict:
    """Coordinates of the ratio chart, drawn as an SVG in the template (no scripts)."""
    width, height, left, top, bottom = 640, 220, 40, 10, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    points = [p for p in summary.history if p.ratio is not None]
    step = plot_w / max(1, len(points) - 1)

    def y(share: float) -> float:
        return round(top + plot_h * (1 - share), 1)

    coords: list[dict[str, Any]] = [
        {
            "x": round(left + i * step, 1),
            "y": y(p.ratio or 0),
            "point": p,
            "label": p.on.strftime("%Y-%m"),
        }
        for i, p in enumerate(points)
    ]
    past = [c for c in coords if not c["point"].forecast]
    future = past[-1:] + [c for c in coords if c["point"].forecast]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 10,
        "bottom": top + plot_h,
        "target_y": y(summary.target),
        "grid": [{"y": y(s), "label": f"{int(s * 100)}%"} for s in (0, 0.5, 1)],
        "coords": coords,
        "past": " ".join(f"{c['x']},{c['y']}" for c in past),
        "future": " ".join(f"{c['x']},{c['y']}" for c in future),
    }


# --- pages ------------------------------------------------------------------------


def _teacher_page(teacher: User, own: bool):
    active = active_ruleset_for(teacher.institution_id)
    status = teacher_status(teacher, active=active)
    viewer = current_user._get_current_object()
    return render_template(
        "progress/dashboard.html",
        status=status,
        ruleset=active,
        own=own,
        body=_teacher_body(status, active, own),
        # Seats change with every request: rendered outside the cached body, from
        # offers kept under the marketplace's version.
        offers=kept_path_offers(viewer, teacher, status, active.ruleset),
    )


def _teacher_body(status: TeacherStatus, active: ActiveRuleset, own: bool) -> Markup:
    """The dashboard's data part, rendered once per cached status and language."""
    key = (str(get_locale()), str(get_timezone()), own)
    body = status.fragments.get(key)
    if body is None:
        body = Markup(
            render_template(
                "progress/_dashboard_body.html",
                status=status,
                ruleset=active,
                lapses=next_lapses(status.report),
                own=own,
                explanations=_explanations(status.report, active.ruleset),
            )
        )
        status.fragments[key] = body
    return body


def _explanations(report: ProgressReport, ruleset: Ruleset) -> dict[str, list[str]]:
    """Sentences per requirement and alternative of the next level, by code."""
    level = report.next_level
    if level is None:
        return {}
    results = [r for rr in level.requirements for r in (rr, *rr.alternatives)]
    defined = {r.code: ruleset.requirement(r.code) for r in results}
    # Kind names only when a credit table or a cap names kinds (one query).
    converted = any(getattr(d, "is_converted", False) for d in defined.values())
    kinds = kind_labels(str(get_locale())) if converted else {}
    return {r.code: explain(r, defined[r.code], kinds) for r in results}


@bp.route("/")
@role_required(Role.TEACHER)
def dashboard():
    """The signed-in teacher's own progress."""
    return _teacher_page(current_user._get_current_object(), own=True)


@bp.route("/teachers/<int:teacher_id>")
@login_required
def teacher(teacher_id: int):
    """A teacher's progress, for the heads of their department (and admins)."""
    user = db.session.scalar(
        select(User)
        .options(joinedload(User.teacher_profile))
        .where(User.id == teacher_id)
    )
    if user is None or not user.has_role(Role.TEACHER) or not _may_view(user):
        abort(404)
    return _teacher_page(user, own=user.id == current_user.id)


def _may_view(user: User) -> bool:
    """The teacher, the heads of their department, their college's admin and the
    deployment admin; anyone else gets 404."""
    return may_read_person(current_user._get_current_object(), user)


def _departments() -> list[Department] | None:
    """The departments the actor may choose from (None: only their own).

    The deployment admin: every department; a college admin: their college's.
    """
    actor = current_user._get_current_object()
    stmt = (
        select(Department)
        .join(Institution, Institution.id == Department.institution_id)
        .options(contains_eager(Department.institution))
        .order_by(Institution.name, Department.name, Department.id)
    )
    if is_deployment_admin(actor):
        return list(db.session.scalars(stmt))
    managed = managed_institution(actor)
    if managed is not None:
        return list(
            db.session.scalars(stmt.where(Department.institution_id == managed))
        )
    return None


def _department() -> tuple[Department, list[Department]]:
    """The department to show and, for admins, the ones they may choose from.

    Outside the actor's scope (another department, another college): 404.
    """
    wanted = request.args.get("department", type=int)
    departments = _departments()
    if departments is not None:
        by_id = {d.id: d for d in departments}
        chosen_id = wanted or current_user.department_id
        chosen = by_id.get(chosen_id) if chosen_id else None
        if chosen is None and (wanted or not departments):
            abort(404)
        return chosen or departments[0], departments
    own = current_user.department_id
    if own is None or (wanted is not None and wanted != own):
        abort(404)
    department = db.session.get(Department, own)
    if department is None or not current_user.has_role(Role.HEAD):
        abort(404)
    return department, []


def _department_label(department: Department, departments: list[Department]) -> str:
    """The picker's label: the college's name too when several colleges appear."""
    colleges = {d.institution_id for d in departments}
    if len(colleges) < 2:
        return department_name(department)
    return f"{department.institution.name} · {department_name(department)}"


@bp.route("/department")
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def department():
    """The department's ratio now and forecast, who is behind, who lapses soon."""
    chosen, departments = _department()
    summary = department_summary(chosen)
    # The picker is for admins only (a head has no departments to choose from).
    form = (
        DepartmentChoiceForm(
            data={"department": chosen.id},
            departments=departments,
            label=lambda d: _department_label(d, departments),
        )
        if departments
        else None
    )
    return render_template(
        "progress/department.html",
        summary=summary,
        body=_department_body(summary),
        form=form,
    )


@bp.route("/college")
@role_required(Role.COLLEGE_ADMIN, Role.ADMIN)
def college():
    """A college's departments: the ratio now and forecast, and the ruleset applied.

    A college admin sees their college; the deployment admin chooses one.
    """
    actor = current_user._get_current_object()
    deployment = is_deployment_admin(actor)
    managed = managed_institution(actor)
    stmt = select(Institution).order_by(Institution.name, Institution.id)
    if not deployment:
        stmt = stmt.where(Institution.id == managed)
    colleges = list(db.session.scalars(stmt))
    wanted = request.args.get("college", type=int)
    by_id = {c.id: c for c in colleges}
    default = managed or (colleges[0].id if colleges else None)
    chosen = by_id.get(wanted or default) if (wanted or default) else None
    if chosen is None:
        abort(404)
    departments = list(
        db.session.scalars(
            select(Department)
            .where(Department.institution_id == chosen.id)
            .order_by(Department.name, Department.id)
        )
    )
    active = active_ruleset_for(chosen.id)
    summaries = department_summaries(departments, {d.id: active for d in departments})
    return render_template(
        "progress/college.html",
        college=chosen,
        colleges=colleges if deployment else [],
        ruleset=active,
        summaries=summaries,
        total=college_total(summaries),
    )


def college_total(summaries: list[DepartmentSummary]) -> dict[str, Any]:
    """The college's ratio now and at each forecast horizon, over its departments."""

    def ratio(qualified: int, total: int) -> float | None:
        return qualified / total if total else None

    qualified = sum(s.now.qualified for s in summaries)
    total = sum(s.now.total for s in summaries)
    return {
        "qualified": qualified,
        "total": total,
        "ratio": ratio(qualified, total),
        "forecasts": {
            months: ratio(
                sum(s.forecasts[months].qualified for s in summaries),
                sum(s.forecasts[months].total for s in summaries),
            )
            for months in FORECAST_MONTHS
        },
    }


def _department_body(summary: DepartmentSummary) -> Markup:
    """The data part of the page and the ratio comparison below it, rendered once
    per cached summary, language and time zone.

    The comparison's recognitions are part of the cached summary's key (see
    :mod:`pdtracker.progress.cache`), so a kept body never outlives them.
    """
    key = (str(get_locale()), str(get_timezone()))
    body = summary.fragments.get(key)
    if body is None:
        body = Markup("\n").join(
            (
                Markup(
                    render_template("progress/_department_body.html", summary=summary)
                ),
                Markup(
                    render_template("papers/_ratio_comparison.html", summary=summary)
                ),
            )
        )
        summary.fragments[key] = body
    return body


def _export(kind: str):
    chosen, _departments = _department()
    summary = department_summary(chosen)
    name = f"dual-qualified-{chosen.code}-{summary.as_of.isoformat()}.{kind}"
    if kind == "csv":
        body, mimetype = exports.to_csv(summary), exports.CSV_MIMETYPE
    else:
        body, mimetype = exports.to_xlsx(summary), exports.XLSX_MIMETYPE
    return send_file(
        exports.as_stream(body),
        mimetype=mimetype,
        as_attachment=True,
        download_name=name,
        max_age=0,
    )


@bp.route("/department.csv")
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def department_csv():
    """One row per teacher, CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    return _export("csv")


@bp.route("/department.xlsx")
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def department_xlsx():
    """One row per teacher, Excel workbook."""
    return _export("xlsx")


@bp.app_template_global()
def days_until(day: date | None, as_of: date) -> int | None:
    """Whole days from as_of to day."""
    return None if day is None else (day - as_of).days
