"""Recognition pages for a college admin (and the deployment admin): rounds, the
panel, decisions, publishing, objections and the review of recognitions."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404
from pdtracker.org.models import Institution
from pdtracker.recognition import lifecycle, panel, results, rounds
from pdtracker.recognition.display import level_labels
from pdtracker.recognition.errors import Refused
from pdtracker.recognition.forms import (
    DecisionForm,
    ResolveForm,
    ReviewerForm,
    ReviewForm,
    RoundForm,
    options,
)
from pdtracker.recognition.models import (
    Objection,
    PanelVote,
    Recognition,
    RecognitionApplication,
    RecognitionChange,
    RecognitionRound,
    RoundReviewer,
)
from pdtracker.recognition.queries import (
    administered_rounds,
    application_for,
    objection_for_admin,
    recognition_for_admin,
    round_for_admin,
)
from pdtracker.recognition.rulesets import active_for, level_names
from pdtracker.recognition.views import bp, commit_step, form_step, locale
from pdtracker.tenancy import (
    institution_clause,
    is_deployment_admin,
    managed_institution,
    manages_institution,
)
from pdtracker.timeutil import utcnow

ADMINS = (Role.COLLEGE_ADMIN, Role.ADMIN)
App = RecognitionApplication


@bp.route("/rounds")
@role_required(*ADMINS)
def rounds_index():
    """The rounds of the colleges I administer."""
    rows = db.session.scalars(
        select(RecognitionRound)
        .where(administered_rounds(current_user))
        .options(joinedload(RecognitionRound.institution))
        .order_by(RecognitionRound.created_at.desc(), RecognitionRound.id.desc())
    ).all()
    counts = dict(
        db.session.execute(
            select(App.round_id, func.count())
            .where(App.round_id.in_([r.id for r in rows]))
            .group_by(App.round_id)
        ).all()
    ) if rows else {}  # fmt: skip
    colleges = (
        db.session.scalars(select(Institution).order_by(Institution.name)).all()
        if is_deployment_admin(current_user)
        else []
    )
    return render_template(
        "recognition/rounds.html", rows=rows, counts=counts, colleges=colleges
    )


@bp.route("/rounds/new", methods=["GET", "POST"])
@role_required(*ADMINS)
def round_new():
    """Create a draft round for my college."""
    institution = managed_institution(current_user) or request.args.get(
        "institution_id", type=int
    )
    if institution is None or not manages_institution(current_user, institution):
        abort(404)
    ruleset = active_for(institution).ruleset
    names = level_names(ruleset)
    form = RoundForm()
    form.levels.choices = options(
        (lv.code, names[lv.code].get(locale())) for lv in ruleset.levels
    )
    if form.validate_on_submit():
        rnd = commit_step(
            lambda: rounds.create_round(
                current_user, name=form.name.data.strip(), levels=form.levels.data,
                opens_on=form.opens_on.data, closes_on=form.closes_on.data,
                now=utcnow(), institution_id=institution,
                objection_days=form.objection_days.data,
                validity_years=form.validity_years.data,
            ),
            _("The round was created as a draft."),
        )  # fmt: skip
        if rnd is not None:
            return redirect(url_for(".round_detail", round_id=rnd.id))
    return render_template("recognition/round_form.html", form=form)


@bp.route("/rounds/<int:round_id>")
@role_required(*ADMINS)
def round_detail(round_id: int):
    """A round: its panel, its applications with votes and decisions, objections."""
    rnd = round_for_admin(current_user, round_id)
    reviewers = db.session.scalars(
        select(RoundReviewer)
        .where(RoundReviewer.round_id == rnd.id)
        .options(joinedload(RoundReviewer.reviewer))
        .order_by(RoundReviewer.added_at)
    ).all()
    rows = db.session.scalars(
        select(App)
        .where(App.round_id == rnd.id)
        .options(joinedload(App.teacher), joinedload(App.decision),
                 joinedload(App.objection))
        .order_by(App.submitted_at, App.id)
    ).all()  # fmt: skip
    tally: dict[int, dict[str, int]] = {}
    for app_id, choice, n in db.session.execute(
        select(PanelVote.application_id, PanelVote.choice, func.count())
        .where(PanelVote.round_id == rnd.id)
        .group_by(PanelVote.application_id, PanelVote.choice)
    ):
        tally.setdefault(app_id, {})[choice] = n
    return render_template(
        "recognition/round.html",
        rnd=rnd,
        reviewers=reviewers,
        rows=rows,
        tally=tally,
        labels=level_labels(rnd, locale()),
        reviewer_form=ReviewerForm(),
    )


def _round_step(round_id: int, run: Any, message: str) -> Any:
    rnd = round_for_admin(current_user, round_id)
    lock_or_404(rnd)
    commit_step(lambda: run(rnd, utcnow()), message)
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.route("/rounds/<int:round_id>/open", methods=["POST"])
@role_required(*ADMINS)
def round_open(round_id: int):
    """Open the round; the active ruleset version is frozen into it."""
    return _round_step(round_id, lambda r, now: rounds.open_round(current_user, r, now),
                       _("The round is open for applications."))  # fmt: skip


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@role_required(*ADMINS)
def round_close(round_id: int):
    """Close the round to applications."""
    return _round_step(round_id, lambda r, now: rounds.close_round(current_user, r, now),
                       _("The round is closed to applications."))  # fmt: skip


@bp.route("/rounds/<int:round_id>/publish", methods=["POST"])
@role_required(*ADMINS)
def round_publish(round_id: int):
    """Publish the results: recognitions for the approved, a message to everyone."""
    return _round_step(round_id, lambda r, now: results.publish(current_user, r, now),
                       _("The results were published."))  # fmt: skip


@bp.route("/rounds/<int:round_id>/reviewers", methods=["POST"])
@role_required(*ADMINS)
def reviewer_add(round_id: int):
    """Put a person of the college on the panel."""
    form = ReviewerForm()
    username = (form.username.data or "").strip() if form.validate_on_submit() else ""

    def run(rnd: RecognitionRound, now: Any) -> None:
        person = db.session.scalar(
            select(User).where(User.username == username,
                               User.institution_id == rnd.institution_id)
        )  # fmt: skip
        if person is None:
            raise Refused("reviewer_not_in_college")
        rounds.add_reviewer(current_user, rnd, person, now)

    return _round_step(round_id, run, _("The reviewer was added."))


@bp.route("/rounds/<int:round_id>/reviewers/<int:user_id>/remove", methods=["POST"])
@role_required(*ADMINS)
def reviewer_remove(round_id: int, user_id: int):
    """Take a person off the panel."""
    return _round_step(
        round_id,
        lambda r, now: rounds.remove_reviewer(current_user, r, user_id, now),
        _("The reviewer was removed."),
    )


@bp.route("/applications/<int:application_id>/decide", methods=["POST"])
@role_required(*ADMINS)
def decide(application_id: int):
    """The round's decision on one application."""
    a = application_for(current_user, application_id)
    if not manages_institution(current_user, a.round.institution_id):
        abort(404)
    lock_or_404(a)
    form = DecisionForm(prefix="decide")
    form.level.choices = options((c, c) for c in a.round.levels)
    return form_step(
        form,
        lambda: panel.decide(current_user, a, approve=form.outcome.data == "approve",
                             level=form.level.data, reason=form.reason.data,
                             now=utcnow()),
        _("The decision was recorded."),
        a,
        "decide",
    )  # fmt: skip


@bp.route("/objections/<int:objection_id>/resolve", methods=["POST"])
@role_required(*ADMINS)
def objection_resolve(objection_id: int):
    """Uphold or change a decision after an objection."""
    objection: Objection = objection_for_admin(current_user, objection_id)
    lock_or_404(objection)
    form = ResolveForm(prefix="resolve")
    form.level.choices = options((c, c) for c in objection.application.round.levels)

    def run() -> None:
        outcome = form.outcome.data
        results.resolve_objection(
            current_user, objection, change=outcome != "uphold",
            approve=None if outcome == "uphold" else outcome == "approve",
            level=form.level.data or None, resolution=form.resolution.data,
            now=utcnow(),
        )  # fmt: skip

    return form_step(form, run, _("The objection was resolved."),
                     objection.application, "resolve")  # fmt: skip


@bp.route("/recognitions")
@role_required(*ADMINS)
def recognitions():
    """Recognitions of my college, suspended ones first."""
    rows = db.session.scalars(
        select(Recognition)
        .where(institution_clause(current_user, Recognition.institution_id))
        .options(joinedload(Recognition.teacher),
                 joinedload(Recognition.application).joinedload(App.round))
        .order_by((Recognition.state == "suspended").desc(),
                  Recognition.valid_until, Recognition.id)
    ).all()  # fmt: skip
    labels = {r.application.round_id: level_labels(r.application.round, locale())
              for r in rows}  # fmt: skip
    return render_template("recognition/recognitions.html", rows=rows, labels=labels)


@bp.route("/recognitions/<int:recognition_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def recognition(recognition_id: int):
    """A recognition, its evidence graph and state trail; restore or revoke it."""
    rec = recognition_for_admin(current_user, recognition_id)
    form = ReviewForm()
    if form.validate_on_submit():
        lock_or_404(rec)

        def run() -> None:
            restore = form.outcome.data == "restore"
            if rec.state == "suspended":
                lifecycle.review(current_user, rec, restore=restore,
                                 reason=form.reason.data, now=utcnow())  # fmt: skip
            elif restore:
                raise Refused("not_suspended")
            else:
                lifecycle.revoke(
                    current_user, rec, reason=form.reason.data, now=utcnow()
                )

        commit_step(run, _("The recognition was updated."))
        return redirect(url_for(".recognition", recognition_id=rec.id))
    trail = db.session.scalars(
        select(RecognitionChange)
        .where(RecognitionChange.recognition_id == rec.id)
        .order_by(RecognitionChange.id)
    ).all()
    return render_template(
        "recognition/recognition.html",
        rec=rec,
        trail=trail,
        form=form,
        labels=level_labels(rec.application.round, locale()),
    )
