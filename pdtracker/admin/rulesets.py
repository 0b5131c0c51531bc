"""Admin pages for rulesets: list, upload, edit drafts, preview against the active one,
publish. Published versions are immutable; every change is audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from pdtracker.admin.views import bp
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.progress import records, services
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.documents import RulesetError
from pdtracker.progress.facts import local_today
from pdtracker.progress.forms import DepartmentChoiceForm, RulesetForm
from pdtracker.progress.models import StoredRuleset
from pdtracker.routing import id_value
from pdtracker.timeutil import utcnow


def _actor():
    return current_user._get_current_object()


def _issues(error: RulesetError) -> list[dict]:
    """The problems in the user's language (the validator writes them in English)."""
    context = "".join(
        _("in extended ruleset “%(name)s”: ", name=name) for name in error.parents
    )
    return [
        {
            "line": i.line,
            "field": i.path,
            # Marked with N_ in progress/rulebook.py or documents.py: the catalog has it.
            "message": context + _(i.template, **i.params),
        }
        for i in error.issues
    ]


def _read(form: RulesetForm) -> tuple[str | None, str | None]:
    """The submitted text and format; None text when nothing usable was sent."""
    text = form.text()
    if text is None:
        form.file.errors = [*form.file.errors, _("The file is not UTF-8 text.")]
    elif not text.strip():
        form.document.errors = [
            *form.document.errors,
            _("Paste a ruleset document or choose a file."),
        ]
        text = None
    return text, form.chosen_format()


@bp.route("/rulesets")
def rulesets():
    """Every stored ruleset version, and which one the pages use."""
    active = records.active_ruleset()
    return render_template(
        "admin/rulesets.html", records=records.list_rulesets(), active=active
    )


@bp.route("/rulesets/new", methods=["GET", "POST"])
def ruleset_new():
    """Upload a document as a new draft version (validated first)."""
    form = RulesetForm()
    issues: list[dict] = []
    if request.method == "GET" and (
        source_id := request.args.get("from", type=id_value)
    ):
        source = db.get_or_404(StoredRuleset, source_id)
        form.document.data, form.format.data = source.document, source.format
    if form.validate_on_submit():
        text, fmt = _read(form)
        if text is not None:
            try:
                rec = records.create_draft(text, fmt, actor=_actor(), now=utcnow())
            except RulesetError as error:
                issues = _issues(error)
            else:
                db.session.commit()
                flash(
                    _("Draft %(name)s version %(version)s saved.",
                      name=rec.name, version=rec.version),
                    "success",
                )  # fmt: skip
                return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
    return render_template(
        "admin/ruleset_form.html", form=form, issues=issues, record=None
    )


@bp.route("/rulesets/<int:ruleset_id>/edit", methods=["GET", "POST"])
def ruleset_edit(ruleset_id: int):
    """Change a draft's document; published versions are refused."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    if rec.is_published:
        flash(
            _("Published versions cannot be changed: upload a new version."), "danger"
        )
        return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
    form = RulesetForm(data={"document": rec.document, "format": rec.format})
    issues: list[dict] = []
    if form.validate_on_submit():
        text, fmt = _read(form)
        if text is not None:
            try:
                records.update_draft(rec, text, fmt, actor=_actor(), now=utcnow())
            except RulesetError as error:
                issues = _issues(error)
            except records.DraftRenamed:
                form.document.errors = [
                    _("A draft keeps its name; upload a new ruleset for a new name.")
                ]
            else:
                db.session.commit()
                flash(_("Draft saved."), "success")
                return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
    return render_template(
        "admin/ruleset_form.html", form=form, issues=issues, record=rec
    )


@bp.route("/rulesets/<int:ruleset_id>")
def ruleset_preview(ruleset_id: int):
    """The document, and a department evaluated under it beside the active ruleset."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    departments = list(db.session.scalars(select(Department).order_by(Department.name)))
    form = DepartmentChoiceForm(request.args, departments=departments)
    chosen = next((d for d in departments if d.id == form.department.data), None) or (
        departments[0] if departments else None
    )
    if chosen is not None:
        form.department.data = chosen.id
    issues: list[dict] = []
    comparison = None
    try:
        candidate = records.parse_record(rec)
    except RulesetError as error:
        issues = _issues(error)
        candidate = None
    active = records.active_ruleset()
    if candidate is not None and chosen is not None:
        comparison = _compare(chosen, rec, candidate, active)
    changes = None if candidate is None else records.changes_against_active(candidate)
    return render_template(
        "admin/ruleset_preview.html",
        record=rec,
        ruleset=candidate,
        active=active,
        form=form,
        issues=issues,
        comparison=comparison,
        changes=changes,
    )


def _compare(
    department: Department,
    rec: StoredRuleset,
    candidate: Ruleset,
    active: records.ActiveRuleset,
) -> dict:
    """Both rulesets over the same loaded facts (the facts are read once)."""
    today = local_today()
    teachers, gathered = services.load_department(department.id, utcnow())
    proposed = records.ActiveRuleset(candidate, rec.name, rec.version, rec.id)
    before = services.summarize(
        department, teachers, gathered, active, today, history=False
    )
    after = services.summarize(
        department, teachers, gathered, proposed, today, history=False
    )
    after_by_id = {s.teacher.id: s for s in after.teachers}
    rows = [(s, after_by_id[s.teacher.id]) for s in before.teachers]
    changed = sum(a.report.level != b.report.level for a, b in rows)
    return {"before": before, "after": after, "rows": rows, "changed": changed}


@bp.route("/rulesets/<int:ruleset_id>/publish", methods=["POST"])
def ruleset_publish(ruleset_id: int):
    """Publish a draft: it becomes the active ruleset and can no longer change."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    return _publish(rec, lambda reason: records.publish(
        rec, actor=_actor(), now=utcnow(), reason=reason
    ))  # fmt: skip


@bp.route("/rulesets/<int:ruleset_id>/republish", methods=["POST"])
def ruleset_republish(ruleset_id: int):
    """Publish an earlier version again, as the next version of its name."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    return _publish(rec, lambda reason: records.republish(
        rec, actor=_actor(), now=utcnow(), reason=reason
    ))  # fmt: skip


def _publish(rec: StoredRuleset, action: Callable[[str | None], StoredRuleset]):
    """Run a publishing action; commit and say so, or say why not."""
    try:
        published = action(request.form.get("reason"))
    except records.RulesetLocked:
        flash(_("This version is already published."), "warning")
    except records.ReasonRequired as error:
        db.session.rollback()
        flash(
            _("This version lowers a public standard (%(codes)s): give a reason "
              "to publish it.", codes=str(error)),
            "warning",
        )  # fmt: skip
    except records.LoweredStillPublic as error:
        db.session.rollback()
        flash(
            _("A lowered threshold is the college's own number: mark %(codes)s "
              "public_standard = false.", codes=str(error)),
            "danger",
        )  # fmt: skip
    except RulesetError as error:
        db.session.rollback()
        flash(
            _("The ruleset is no longer valid: %(problem)s", problem=str(error)),
            "danger",
        )
    else:
        db.session.commit()
        flash(
            _("%(name)s version %(version)s is published and active.",
              name=published.name, version=published.version),
            "success",
        )  # fmt: skip
        return redirect(url_for("admin.ruleset_preview", ruleset_id=published.id))
    return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
