"""Admin pages for rulesets: list, upload, edit drafts, preview against the active one,
publish. Published versions are immutable; every change is audited.

Per scope (docs/status-rules.md S22, :mod:`pdtracker.progress.layers`): a college
admin sees and publishes only their college's layer; the deployment admin and the
association's staff publish the regional layer, and the deployment admin may view
every college's. A version outside the actor's scope is not found (404). Staff
preview the regional layer per college, in counts (:mod:`.ruleset_impact`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pdtracker.admin import ruleset_impact
from pdtracker.admin.views import bp, staff_scoped
from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.progress import layers, records, services
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


def _scope_issue(error: records.ScopeError) -> str:
    """Why a document does not fit the scope, in the user's language."""
    if error.code == "name_taken":
        return _(
            "The name %(name)s belongs to another layer: give your ruleset its own "
            "name.",
            name=error.name,
        )
    allowed = ", ".join(error.allowed)
    if error.code == "must_extend":
        return _(
            "A college's ruleset builds on the regional layer: set extends to one "
            "of %(names)s.",
            names=allowed,
        )
    return _(
        "%(name)s is not part of the regional layer: extends must name one of "
        "%(names)s.",
        name=error.name,
        names=allowed,
    )


def _visible(ruleset_id: int) -> StoredRuleset:
    """A version the actor may see, else 404."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    if not layers.may_view(_actor(), rec.institution_id):
        abort(404)
    return rec


def _managed(ruleset_id: int) -> StoredRuleset:
    """A version the actor may change or publish, else 404."""
    rec = db.get_or_404(StoredRuleset, ruleset_id)
    if not layers.may_manage(_actor(), rec.institution_id):
        abort(404)
    return rec


@bp.route("/rulesets")
@staff_scoped
def rulesets():
    """The stored versions of the layers the actor sees, and which one applies."""
    actor = _actor()
    scopes = layers.visible_scopes(actor)
    if scopes == []:
        abort(404)
    stored = records.list_rulesets(scopes)
    names = layers.institution_names(scopes)
    # The active version per scope shown (one query); colleges with no layer of
    # their own use the regional one.
    actives = records.active_rulesets_for(names)
    order = scopes if scopes is not None else [None, *sorted(names, key=names.get)]
    groups = [
        (scope, names.get(scope) if scope is not None else None, actives[scope],
         [r for r in stored if r.institution_id == scope])
        for scope in order
    ]  # fmt: skip
    try:
        writable: int | None | bool = layers.publishing_scope(actor)
    except layers.NoScope:
        writable = False
    return render_template(
        "admin/rulesets.html",
        groups=groups,
        regional=actives[None],
        writable=writable,
    )


@bp.route("/rulesets/new", methods=["GET", "POST"])
@staff_scoped
def ruleset_new():
    """Upload a document as a new draft version (validated first)."""
    try:
        scope = layers.publishing_scope(_actor())
    except layers.NoScope:
        abort(404)
    form = RulesetForm()
    issues: list[dict] = []
    if request.method == "GET" and (
        source_id := request.args.get("from", type=id_value)
    ):
        source = _visible(source_id)
        form.document.data, form.format.data = source.document, source.format
    if form.validate_on_submit():
        text, fmt = _read(form)
        if text is not None:
            try:
                rec = records.create_draft(
                    text, fmt, actor=_actor(), now=utcnow(), institution_id=scope
                )
            except RulesetError as error:
                issues = _issues(error)
            except records.ScopeError as error:
                form.document.errors = [*form.document.errors, _scope_issue(error)]
            else:
                db.session.commit()
                flash(
                    _("Draft %(name)s version %(version)s saved.",
                      name=rec.name, version=rec.version),
                    "success",
                )  # fmt: skip
                return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
    return render_template(
        "admin/ruleset_form.html", form=form, issues=issues, record=None,
        scope_name=_scope_name(scope),
    )  # fmt: skip


@bp.route("/rulesets/<int:ruleset_id>/edit", methods=["GET", "POST"])
@staff_scoped
def ruleset_edit(ruleset_id: int):
    """Change a draft's document; published versions are refused."""
    rec = _managed(ruleset_id)
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
            except records.ScopeError as error:
                form.document.errors = [*form.document.errors, _scope_issue(error)]
            except records.DraftRenamed:
                form.document.errors = [
                    _("A draft keeps its name; upload a new ruleset for a new name.")
                ]
            else:
                db.session.commit()
                flash(_("Draft saved."), "success")
                return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
    return render_template(
        "admin/ruleset_form.html", form=form, issues=issues, record=rec,
        scope_name=_scope_name(rec.institution_id),
    )  # fmt: skip


def _scope_name(institution_id: int | None) -> str | None:
    """The college's name for a college layer; None for the regional layer."""
    if institution_id is None:
        return None
    return layers.institution_names([institution_id]).get(institution_id)


@bp.route("/rulesets/<int:ruleset_id>")
@staff_scoped
def ruleset_preview(ruleset_id: int):
    """The document, and a department evaluated under it beside the ruleset that
    applies there now (the scope's active version)."""
    rec = _visible(ruleset_id)
    actor = _actor()
    departments = layers.preview_departments(actor, rec.institution_id)
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
    active = records.active_ruleset_for(rec.institution_id)
    if candidate is not None and chosen is not None:
        comparison = _compare(chosen, rec, candidate)
    changes = (
        None
        if candidate is None
        else records.changes_against_active(candidate, rec.institution_id)
    )
    impact = None
    if candidate is not None and rec.institution_id is None and not departments:
        # Staff try the regional layer on no department: counts per college only.
        impact = ruleset_impact.college_impact(candidate, utcnow(), local_today())
    return render_template(
        "admin/ruleset_preview.html",
        record=rec,
        ruleset=candidate,
        active=active,
        form=form,
        issues=issues,
        comparison=comparison,
        changes=changes,
        impact=impact,
        manages=layers.may_manage(actor, rec.institution_id),
        scope_name=_scope_name(rec.institution_id),
    )


def _compare(department: Department, rec: StoredRuleset, candidate: Ruleset) -> dict:
    """The department under the ruleset that applies to it now and under the
    candidate, over the same loaded facts (the facts are read once)."""
    active = records.active_ruleset_for(department.institution_id)
    today = local_today()
    teachers, gathered = services.load_department(department.id, utcnow())
    proposed = records.ActiveRuleset(
        candidate, rec.name, rec.version, rec.id, rec.institution_id
    )
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
@staff_scoped
def ruleset_publish(ruleset_id: int):
    """Publish a draft: it becomes its scope's active version and can no longer
    change."""
    rec = _managed(ruleset_id)
    return _publish(rec, lambda reason: records.publish(
        rec, actor=_actor(), now=utcnow(), reason=reason
    ))  # fmt: skip


@bp.route("/rulesets/<int:ruleset_id>/republish", methods=["POST"])
@staff_scoped
def ruleset_republish(ruleset_id: int):
    """Publish an earlier version again, as the next version of its name."""
    rec = _managed(ruleset_id)
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
    except records.ScopeError as error:
        db.session.rollback()
        flash(_scope_issue(error), "danger")
    else:
        db.session.commit()
        flash(
            _("%(name)s version %(version)s is published and active.",
              name=published.name, version=published.version)
            if published.institution_id is None
            else _("%(name)s version %(version)s is published and applies to "
                   "%(college)s.", name=published.name, version=published.version,
                   college=_scope_name(published.institution_id)),
            "success",
        )  # fmt: skip
        return redirect(url_for("admin.ruleset_preview", ruleset_id=published.id))
    return redirect(url_for("admin.ruleset_preview", ruleset_id=rec.id))
