"""Recognition pages for teachers, heads and reviewers, and the application page.

Admin pages are in :mod:`.views_admin` on the same blueprint. Every lookup goes
through :mod:`.queries`, so what the actor may not see answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404
from pdtracker.recognition import applications, panel, results
from pdtracker.recognition.display import (
    APPLICATION_STATES,
    BAD_REASONS,
    RECOGNITION_STATES,
    ROUND_STATES,
    STATE_CSS,
    error_text,
    level_labels,
)
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.forms import (
    ApplyForm,
    CheckForm,
    DecisionForm,
    ObjectionForm,
    ResolveForm,
    ResubmitForm,
    VoteForm,
    options,
)
from pdtracker.recognition.listeners import install as install_listeners
from pdtracker.recognition.models import (
    FormalCheck,
    Recognition,
    RecognitionApplication,
    RecognitionRound,
    RoundReviewer,
    RoundState,
)
from pdtracker.recognition.queries import (
    application_for,
    head_clause,
    open_round_for_teacher,
)
from pdtracker.recognition.rounds import accepts_applications
from pdtracker.tenancy import manages_institution
from pdtracker.timeutil import local_today, utcnow

bp = Blueprint("recognition", __name__, url_prefix="/recognition")
# The evidence listener lives with the area: installed when the area is.
bp.record_once(lambda _state: install_listeners())

App = RecognitionApplication
T = TypeVar("T")


@bp.app_template_global()
def recognition_state_label(state: str) -> str:
    """A recognition state in the user's language."""
    return str(RECOGNITION_STATES.get(state, state))


@bp.app_template_global()
def recognition_state_css(state: str) -> str:
    """A recognition state's badge classes."""
    return STATE_CSS.get(state, "text-bg-secondary")


@bp.app_template_global()
def application_state_label(state: str) -> str:
    """An application state in the user's language."""
    return str(APPLICATION_STATES.get(state, state))


@bp.app_template_global()
def round_state_label(state: str) -> str:
    """A round state in the user's language."""
    return str(ROUND_STATES.get(state, state))


@bp.app_template_global()
def evidence_bad_label(reason: str) -> str:
    """Why a recognition's evidence went bad, in the user's language."""
    return str(BAD_REASONS.get(reason, reason))


def locale() -> str:
    """The current locale's name."""
    return str(get_locale() or "zh")


@bp.app_template_global()
def recognition_english() -> bool:
    """Pages in English show the English names of requirements."""
    return locale().startswith("en")


def refused(exc: Refused) -> None:
    """Flash a refusal in the user's language."""
    flash(error_text(exc.code), "danger")


def commit_step(run: Callable[[], T], message: str) -> T | None:
    """Run one service call and commit once, flashing ``message``; when the service
    refuses, roll back, say why, and return None."""
    try:
        done = run()
    except Refused as exc:
        db.session.rollback()
        refused(exc)
        return None
    db.session.commit()
    flash(message, "success")
    return done


# --- teacher -------------------------------------------------------------------------


@bp.route("/")
@role_required(Role.TEACHER)
def index():
    """Open rounds of my college, my applications and my recognitions."""
    today = local_today()
    open_rounds = db.session.scalars(
        select(RecognitionRound)
        .where(
            RecognitionRound.institution_id == current_user.institution_id,
            RecognitionRound.state == RoundState.OPEN.value,
        )
        .order_by(RecognitionRound.closes_on, RecognitionRound.id)
    ).all()
    mine = db.session.scalars(
        select(App)
        .where(App.teacher_id == current_user.id)
        .options(joinedload(App.round), joinedload(App.decision))
        .order_by(App.submitted_at.desc())
    ).all()
    recognitions = db.session.scalars(
        select(Recognition)
        .where(Recognition.teacher_id == current_user.id)
        .options(joinedload(Recognition.application).joinedload(App.round))
        .order_by(Recognition.valid_from.desc(), Recognition.id.desc())
    ).all()
    applied = {a.round_id for a in mine}
    on_panel = db.session.scalar(
        select(RoundReviewer.round_id)
        .where(RoundReviewer.reviewer_id == current_user.id)
        .limit(1)
    )
    return render_template(
        "recognition/index.html",
        open_rounds=open_rounds,
        applied=applied,
        mine=mine,
        recognitions=recognitions,
        today=today,
        accepts=accepts_applications,
        on_panel=on_panel is not None,
        labels=_labels_for([a.round for a in mine] + list(open_rounds)),
    )


def _labels_for(rounds: list[RecognitionRound]) -> dict[int, dict[str, str]]:
    """Level names per round (each ruleset version parsed once per app)."""
    return {rnd.id: level_labels(rnd, locale()) for rnd in rounds}


@bp.route("/rounds/<int:round_id>/apply", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def apply(round_id: int):
    """The application form, with the engine's pre-check for the chosen level."""
    rnd = open_round_for_teacher(current_user, round_id)
    labels = level_labels(rnd, locale())
    form = ApplyForm()
    form.level.choices = options((code, labels.get(code, code)) for code in rnd.levels)
    level = form.level.data if form.is_submitted() else request.args.get("level")
    if level not in rnd.levels:
        level = rnd.levels[0]
    form.level.data = level
    now = utcnow()
    if form.validate_on_submit():
        # Two clicks (or tabs) at once: the second waits here, then is told it
        # has already applied, instead of tripping the unique key.
        lock_or_404(rnd)
        application = commit_step(
            lambda: applications.apply(
                current_user, rnd, level=level, statement=form.statement.data, now=now
            ),
            _("Your application was submitted."),
        )
        if application is not None:
            return redirect(url_for(".application", application_id=application.id))
    check = applications.precheck(current_user, rnd, level, now)
    return render_template(
        "recognition/apply.html",
        rnd=rnd,
        form=form,
        check=check,
        level=level,
        labels=labels,
        open_now=accepts_applications(rnd, local_today(now)),
    )


# --- the application page ---------------------------------------------------------------


def _roles_on(application: RecognitionApplication) -> dict[str, bool]:
    return {
        "own": application.teacher_id == current_user.id,
        "checker": applications.may_check(current_user, application),
        "reviewer": panel.may_review(current_user, application),
        # A college admin who applied is an applicant here, not the round.
        "admin": application.teacher_id != current_user.id
        and manages_institution(current_user, application.round.institution_id),
    }


@bp.route("/applications/<int:application_id>")
@login_required
def application(application_id: int):
    """An application with its frozen snapshot; the steps the actor may take."""
    return application_page(application_for(current_user, application_id))


def application_page(
    app_row: RecognitionApplication, bound: dict[str, Any] | None = None
) -> str:
    """The application's page; ``bound`` holds a posted form that did not validate,
    shown with its errors and what was typed in place of a fresh one."""
    roles = _roles_on(app_row)
    rnd = app_row.round
    labels = level_labels(rnd, locale())
    checks = db.session.scalars(
        select(FormalCheck)
        .where(FormalCheck.application_id == app_row.id)
        .order_by(FormalCheck.checked_at)
    ).all()
    votes = panel.votes_of(app_row.id) if roles["admin"] or roles["reviewer"] else []
    if roles["reviewer"] and not roles["admin"]:
        votes = [v for v in votes if v.reviewer_id == current_user.id]
    forms = _forms(app_row, roles, labels, bound or {})
    return render_template(
        "recognition/application.html",
        a=app_row,
        rnd=rnd,
        roles=roles,
        labels=labels,
        checks=checks,
        votes=votes,
        voters=_voters(votes),
        forms=forms,
        recognition=results.recognition_of(app_row.id),
        may_object=roles["own"] and results.may_object(app_row, local_today()),
    )


def _voters(votes: list[Any]) -> dict[int, str]:
    ids = sorted({v.reviewer_id for v in votes})
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name).where(User.id.in_(ids))
    )
    return {uid: name for uid, name in rows}


def _forms(
    a: RecognitionApplication,
    roles: dict[str, bool],
    labels: dict[str, str],
    bound: dict[str, Any],
) -> dict[str, Any]:
    def form(cls: type, prefix: str) -> Any:
        return bound.get(prefix) or cls(prefix=prefix)

    forms: dict[str, Any] = {}
    if roles["own"] and a.state == "returned" and a.resubmits_count == 0:
        forms["resubmit"] = form(ResubmitForm, "resubmit")
    if roles["own"]:
        forms["object"] = form(ObjectionForm, "object")
    if roles["checker"] and a.state in applications.AWAITING_CHECK:
        forms["check"] = form(CheckForm, "check")
    if roles["reviewer"] and a.state == "formal_ok":
        forms["vote"] = form(VoteForm, "vote")
    levels = [
        (c, labels.get(c, c))
        for c in a.round.levels[: a.round.levels.index(a.level_applied) + 1]
    ]
    if roles["admin"] and a.state == "formal_ok":
        decide = form(DecisionForm, "decide")
        decide.level.choices = levels
        decide.level.data = decide.level.data or a.level_applied
        forms["decide"] = decide
    if roles["admin"] and a.objection is not None and a.objection.state == "pending":
        resolve = form(ResolveForm, "resolve")
        resolve.level.choices = levels
        forms["resolve"] = resolve
    return forms


def _back(application_id: int):
    return redirect(url_for(".application", application_id=application_id))


def form_step(
    form: Any,
    run: Callable[[], object],
    message: str,
    app_row: RecognitionApplication,
    prefix: str,
):
    """Validate the form, run the service and commit once; back to the application's
    page. A form that does not validate is shown again on that page with its errors
    and what was typed (nothing is stored)."""
    if not form.validate_on_submit():
        db.session.rollback()  # the row lock: nothing of this request is written
        return application_page(app_row, {prefix: form})
    commit_step(run, message)
    return _back(app_row.id)


def _step(
    application_id: int, form_cls: type, prefix: str, run: Any, message: str
) -> Any:
    """Load (404), lock, validate, run the service, commit once; back to the page."""
    app_row = application_for(current_user, application_id)
    lock_or_404(app_row)
    form = form_cls(prefix=prefix)
    return form_step(
        form, lambda: run(app_row, form, utcnow()), message, app_row, prefix
    )


@bp.route("/applications/<int:application_id>/resubmit", methods=["POST"])
@role_required(Role.TEACHER)
def resubmit(application_id: int):
    """Re-submit a returned application (once), with a new snapshot."""

    def run(a, form, now):
        applications.resubmit(current_user, a, statement=form.statement.data, now=now)

    return _step(application_id, ResubmitForm, "resubmit", run,
                 _("Your application was re-submitted."))  # fmt: skip


@bp.route("/applications/<int:application_id>/object", methods=["POST"])
@role_required(Role.TEACHER)
def object_(application_id: int):
    """Object once to the published decision."""

    def run(a, form, now):
        results.file_objection(current_user, a, statement=form.statement.data, now=now)

    return _step(application_id, ObjectionForm, "object", run,
                 _("Your objection was filed."))  # fmt: skip


@bp.route("/applications/<int:application_id>/check", methods=["POST"])
@role_required(Role.HEAD, Role.COLLEGE_ADMIN, Role.ADMIN)
def check(application_id: int):
    """The formal check: complete, or returned with a note."""

    def run(a, form, now):
        applications.formal_check(current_user, a, complete=form.outcome.data == "complete",
                                  note=form.note.data, now=now)  # fmt: skip

    return _step(application_id, CheckForm, "check", run,
                 _("The formal check was recorded."))  # fmt: skip


@bp.route("/applications/<int:application_id>/vote", methods=["POST"])
@role_required(Role.TEACHER, Role.HEAD)
def vote(application_id: int):
    """A panel member's vote with a reason."""

    def run(a, form, now):
        panel.cast_vote(current_user, a, approve=form.choice.data == "approve",
                        reason=form.reason.data, now=now)  # fmt: skip

    return _step(application_id, VoteForm, "vote", run,
                 _("Your vote was recorded."))  # fmt: skip


# --- queues ---------------------------------------------------------------------------


@bp.route("/checks")
@role_required(Role.HEAD)
def checks():
    """The head's formal check queue: their department's applications waiting."""
    rows = db.session.scalars(
        select(App)
        .where(head_clause(current_user), App.state.in_(applications.AWAITING_CHECK))
        .options(joinedload(App.round), joinedload(App.teacher))
        .order_by(App.submitted_at, App.id)
    ).all()
    return render_template("recognition/checks.html", rows=rows,
                           labels=_labels_for([a.round for a in rows]))  # fmt: skip


@bp.route("/reviews")
@role_required(Role.TEACHER, Role.HEAD)
def reviews():
    """The applications assigned to me as a panel member."""
    rows = db.session.scalars(
        select(App)
        .where(panel.reviewable_clause(current_user))
        .options(joinedload(App.round), joinedload(App.teacher))
        .order_by(App.state.desc(), App.submitted_at, App.id)
    ).all()
    return render_template("recognition/reviews.html", rows=rows,
                           labels=_labels_for([a.round for a in rows]))  # fmt: skip
