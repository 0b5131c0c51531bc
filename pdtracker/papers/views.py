"""Papers pages: a teacher's papers, issuing a statement, downloads, certificates."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from pdtracker import tabular
from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404
from pdtracker.org.models import Institution
from pdtracker.papers import official
from pdtracker.papers import services as svc
from pdtracker.papers.checking import paper_states
from pdtracker.papers.forms import StatementForm
from pdtracker.papers.models import Paper, PaperKind
from pdtracker.papers.pdf import render_pdf
from pdtracker.papers.portfolio import (
    Portfolio,
    application_portfolio,
    current_portfolio,
    evidence_zip,
    portfolio_created,
)
from pdtracker.papers.ratios import compare_ratios
from pdtracker.recognition.models import Recognition, RecognitionApplication
from pdtracker.tenancy import (
    institution_clause,
    is_deployment_admin,
    managed_institution,
    manages_institution,
    people_clause,
)
from pdtracker.timeutil import local_today, utcnow

bp = Blueprint("papers", __name__, url_prefix="/papers")
# The department page includes papers/_ratio_comparison.html, which calls this.
bp.add_app_template_global(compare_ratios)

LIST_LIMIT = 200


def _actor() -> User:
    return current_user._get_current_object()


def base_url() -> str:
    """Where check links point: PUBLIC_BASE_URL, else the host this request came to."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url


def pdf_response(paper: Paper):
    """The paper's stored PDF as a download named by its number."""
    response = current_app.response_class(paper.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{paper.kind}-{paper.number}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _visible_recognitions(actor: User) -> list[Recognition]:
    return list(
        db.session.scalars(
            select(Recognition)
            .join(User, User.id == Recognition.teacher_id)
            .where(people_clause(actor))
            .options(selectinload(Recognition.teacher))
            .order_by(Recognition.valid_from.desc(), Recognition.id.desc())
            .limit(LIST_LIMIT)
        )
    )


@bp.route("/")
@login_required
def index():
    """The papers the user may read, the recognitions to print, a statement form."""
    actor = _actor()
    return _index(StatementForm() if actor.has_role(Role.TEACHER) else None)


def _index(form: StatementForm | None) -> str:
    actor = _actor()
    papers = list(db.session.scalars(svc.visible_papers(actor).limit(LIST_LIMIT)))
    today = local_today()
    recognitions = _visible_recognitions(actor)
    return render_template(
        "papers/index.html",
        papers=list(zip(papers, paper_states(papers, today), strict=True)),
        recognitions=recognitions,
        level_label=svc.level_labels(recognitions, str(get_locale() or "zh")),
        form=form,
    )


@bp.route("/statements", methods=["POST"])
@role_required(Role.TEACHER)
def issue_statement():
    """Issue the teacher's own 学时证明 for the period chosen."""
    form = StatementForm()
    if not form.validate_on_submit():
        # The page again, with the dates as typed and the reason beside them.
        return _index(form), 400
    try:
        paper = svc.issue_hours_statement(
            _actor(), form.period_start.data, form.period_end.data,
            actor=_actor(), now=utcnow(), base_url=base_url(),
        )  # fmt: skip
    except svc.PaperRefused:
        db.session.rollback()
        flash(_("This statement cannot be issued for that period."), "danger")
        return redirect(url_for("papers.index"))
    db.session.commit()
    flash(_("Statement %(number)s issued.", number=paper.number), "success")
    return redirect(url_for("papers.index"))


@bp.route("/<string(maxlength=32):number>.pdf")
@login_required
def download(number: str):
    """The paper's PDF, for those who may read its teacher's records (else 404)."""
    paper = svc.visible_paper(_actor(), number)
    if paper is None:
        abort(404)
    return pdf_response(paper)


@bp.route("/<string(maxlength=32):number>/withdraw", methods=["POST"])
@role_required(Role.TEACHER)
def withdraw(number: str):
    """Withdraw one's own hours statement (its check page then says withdrawn)."""
    paper = svc.visible_paper(_actor(), number)
    if paper is None or paper.teacher_id != current_user.id:
        abort(404)
    if paper.kind != PaperKind.HOURS_STATEMENT:
        abort(404)
    svc.withdraw_paper(paper, actor=_actor(), now=utcnow())
    db.session.commit()
    flash(_("Statement %(number)s withdrawn.", number=paper.number), "success")
    return redirect(url_for("papers.index"))


@bp.route("/certificates/<int:recognition_id>", methods=["POST"])
@login_required
def certificate(recognition_id: int):
    """Issue the recognition's certificate (once) and download it."""
    recognition = db.session.scalar(
        select(Recognition)
        .join(User, User.id == Recognition.teacher_id)
        .where(Recognition.id == recognition_id, people_clause(_actor()))
    )
    if recognition is None:
        abort(404)
    # Two clicks at once: the second waits, then downloads the paper the first made.
    lock_or_404(recognition)
    try:
        paper = svc.issue_certificate(
            recognition, actor=_actor(), now=utcnow(), base_url=base_url()
        )
    except svc.PaperRefused:
        flash(
            _("This recognition is not in force: no certificate can be issued."),
            "danger",
        )
        return redirect(url_for("papers.index"))
    db.session.commit()
    return pdf_response(paper)


# --- portfolios ---------------------------------------------------------------------------


def _application_or_404(application_id: int) -> RecognitionApplication:
    application = db.session.scalar(
        select(RecognitionApplication)
        .join(User, User.id == RecognitionApplication.teacher_id)
        .where(RecognitionApplication.id == application_id, people_clause(_actor()))
    )
    if application is None:
        abort(404)
    return application


def _portfolio(application_id: int | None) -> Portfolio:
    if application_id is None:
        if not current_user.has_role(Role.TEACHER):
            abort(404)
        return current_portfolio(_actor(), utcnow())
    return application_portfolio(_application_or_404(application_id))


def _attachment(data: bytes, mimetype: str, filename: str):
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = "attachment; " + _filename(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _filename(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@bp.route("/portfolio.pdf", defaults={"application_id": None})
@bp.route("/portfolio/<int:application_id>.pdf")
@login_required
def portfolio(application_id: int | None):
    """The portfolio PDF: an application's (its snapshot) or one's own current one."""
    p = _portfolio(application_id)
    data = render_pdf("portfolio.html", created=portfolio_created(p), p=p, paper=None)
    return _attachment(
        data, "application/pdf", f"portfolio-{p.profile['staff_number']}.pdf"
    )


@bp.route("/portfolio.zip", defaults={"application_id": None})
@bp.route("/portfolio/<int:application_id>.zip")
@login_required
def portfolio_zip(application_id: int | None):
    """The portfolio's evidence files, named by date and kind, with a manifest."""
    p = _portfolio(application_id)
    data = evidence_zip(p, current_app.config["UPLOAD_FOLDER"])
    return _attachment(
        data, "application/zip", f"evidence-{p.profile['staff_number']}.zip"
    )


# --- official exports ---------------------------------------------------------------------

EXPORT_SHEETS = {
    "staff": "教职工基本数据",
    "ratio": "双师素质比例",
    "training": "培训统计",
}


def _export_scope() -> tuple[ColumnElement[bool], str]:
    """The teachers' clause and the college's name: the actor's college, or the one asked."""
    actor = _actor()
    asked = request.args.get("institution", type=int)
    managed = managed_institution(actor)
    if asked is None and not is_deployment_admin(actor):
        asked = managed
    if asked is None:
        return institution_clause(actor, User.institution_id), "全部院校"
    if not manages_institution(actor, asked):
        abort(404)
    college = db.session.get(Institution, asked)
    if college is None:
        abort(404)
    return User.institution_id == asked, college.name


def _day_arg(name: str) -> date:
    raw = request.args.get(name)
    try:
        return date.fromisoformat(raw) if raw else local_today()
    except ValueError:
        abort(400)


def _table(kind: str) -> tuple[list[str], list[list[object]], str]:
    where, college = _export_scope()
    teachers = official.college_teachers(where)
    if kind == "staff":
        on = _day_arg("on")
        return official.STAFF_HEADERS, official.staff_rows(teachers, on), on.isoformat()
    if kind == "ratio":
        on = _day_arg("on")
        rows = official.ratio_table(official.ratio_rows(teachers, on, college))
        return official.RATIO_HEADERS, rows, on.isoformat()
    year = request.args.get("year", type=int) or local_today().year
    if not 2000 <= year <= 2100:
        abort(400)
    return official.TRAINING_HEADERS, official.training_rows(teachers, year), str(year)


@bp.route("/exports")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN)
def exports():
    """The official exports, with the date or year each one is for."""
    return render_template("papers/exports.html", today=local_today())


@bp.route("/exports/<any(staff, ratio, training):kind>.<any(csv, xlsx):fmt>")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN)
def export(kind: str, fmt: str):
    """Staff data (SFSSXJS), the quality report's ratio, or training by level."""
    head, rows, when = _table(kind)
    if fmt == "csv":
        data, mimetype = tabular.csv_bytes([head, *rows]), tabular.CSV_MIMETYPE
    else:
        book, sheet = tabular.new_sheet(EXPORT_SHEETS[kind])
        tabular.append_row(sheet, head)
        for row in rows:
            tabular.append_row(sheet, row)
        data, mimetype = tabular.xlsx_bytes(book), tabular.XLSX_MIMETYPE
    return _attachment(data, mimetype, f"{EXPORT_SHEETS[kind]}-{when}.{fmt}")
