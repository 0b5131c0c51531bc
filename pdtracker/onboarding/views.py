"""Import pages: upload → preview (mapping, every row) → apply → result; activation.

The deployment admin runs every importer, into the college they choose; a
college admin runs the people and records importers for their own college; a
department head runs the records importer for the teachers of their department.
The uploaded file waits on disk between the steps
(:mod:`pdtracker.onboarding.uploads`); each step plans it afresh.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from pdtracker.activities.services import list_kinds
from pdtracker.admin.services import institutions_for
from pdtracker.auth.models import Role
from pdtracker.auth.session import role_required
from pdtracker.extensions import db
from pdtracker.onboarding import activation, uploads
from pdtracker.onboarding.errors import FileRefused
from pdtracker.onboarding.forms import (
    IMPORTER_LABELS,
    ActivationForm,
    TypeNameForm,
    UploadForm,
    column_fields,
    mapping_form,
)
from pdtracker.onboarding.headers import IMPORTERS, column_keys, read_header
from pdtracker.onboarding.plan import ImportNotAllowed, Plan, check_allowed
from pdtracker.onboarding.reading import MAX_BYTES
from pdtracker.onboarding.results import result_workbook
from pdtracker.onboarding.samples import SAMPLES
from pdtracker.onboarding.services import (
    add_type_name,
    error_message,
    get_mapping,
    list_mappings,
    list_type_names,
    mapping_college,
    run_import,
    save_mapping,
)
from pdtracker.routing import id_value
from pdtracker.security import NO_STORE
from pdtracker.tabular import XLSX_MIMETYPE
from pdtracker.tenancy import is_deployment_admin
from pdtracker.timeutil import utcnow

bp = Blueprint("onboarding", __name__)
PREVIEW_ROWS = 1000  # rows listed on the page; the counts cover every row
# The upload page's own request limit: the importer's file bound and the form
# around it. Every other request keeps the app-wide MAX_CONTENT_LENGTH (evidence
# uploads need their lower one); reading.MAX_BYTES stays the authority on the file.
UPLOAD_REQUEST_MAX = MAX_BYTES + 64 * 1024
UPLOAD_ENDPOINT = "onboarding.index"


def _upload_request_limit() -> None:
    if request.endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = UPLOAD_REQUEST_MAX


@bp.record_once
def _limit_before_any_body_is_read(state: BlueprintSetupState) -> None:
    # A blueprint's before_request runs after the app's, and CSRFProtect's (an
    # app-level one) reads the form: the limit must be set before it, so it goes
    # first in the app's own list.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _upload_request_limit)


def _wants_json() -> bool:
    """A request from static/js/import-progress.js, which navigates by itself."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _go(url: str) -> Response:
    """Redirect a plain post; tell the script where to go (it shows the progress)."""
    if _wants_json():
        return jsonify(location=url)
    return redirect(url)


def _allowed_importers() -> list[str]:
    allowed = []
    for importer in IMPORTERS:
        try:
            check_allowed(importer, current_user)
        except ImportNotAllowed:
            continue
        allowed.append(importer)
    return allowed


def _require(importer: str) -> None:
    if importer not in IMPORTERS:
        abort(404)
    try:
        check_allowed(importer, current_user)
    except ImportNotAllowed:
        abort(403)


@bp.context_processor
def _helpers() -> dict:
    return {"importer_labels": IMPORTER_LABELS, "error_message": error_message}


@bp.route("/imports/", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def index():
    """Choose an importer and upload a file; the sample files to start from."""
    importers = _allowed_importers()
    if not importers:
        abort(403)
    form = UploadForm(importers=importers, colleges=_colleges())
    if request.method == "POST":
        _require(request.form.get("importer", ""))  # another importer: 403, not a form
    if form.validate_on_submit():
        data = form.file.data.read()
        sha = uploads.store_upload(data, current_user.id)
        college = form.college.data if form.college else None
        return _go(
            url_for("onboarding.preview", importer=form.importer.data, sha=sha,
                    filename=form.file.data.filename or "upload",
                    mapping=form.mapping.data or None, college=college)
        )  # fmt: skip
    every = is_deployment_admin(current_user)
    college = mapping_college(current_user)
    mappings = {i: list_mappings(i, college, every_college=every) for i in importers}
    samples = [s for s in SAMPLES if s.importer in importers]
    type_form = _type_form() if current_user.has_role(Role.ADMIN) else None
    return render_template("onboarding/index.html", form=form, mappings=mappings,
                           samples=samples, type_form=type_form,
                           type_names=list_type_names())  # fmt: skip


def _colleges() -> list[tuple[int, str]] | None:
    """The colleges the deployment admin imports into; None for everyone else."""
    if not is_deployment_admin(current_user):
        return None
    return [(i.id, i.name) for i in institutions_for(current_user)]


def _college() -> int | None:
    """The college the deployment admin chose (carried in the URL); None for others."""
    if not is_deployment_admin(current_user):
        return None
    return request.args.get("college", type=id_value)


def _type_form(**kwargs) -> TypeNameForm:
    locale = str(get_locale())
    kinds = [(k.code, k.label(locale)) for k in list_kinds()]
    return TypeNameForm(kinds=kinds, prefix="type", **kwargs)


@bp.post("/imports/types")
@role_required(Role.ADMIN)
def add_type():
    """Teach the records importer a type name (admins extend the default table)."""
    form = _type_form()
    if form.validate_on_submit():
        name = form.name.data.strip()
        add_type_name(name, form.kind.data, actor=current_user, now=utcnow())
        db.session.commit()
        flash(_("Records of type %(name)s are now imported.", name=name), "success")
    else:
        flash(_("Enter a type name and choose a kind."), "danger")
    return redirect(url_for("onboarding.index"))


@bp.route("/imports/samples/<name>")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def sample(name: str):
    """A sample file to start from."""
    found = next((s for s in SAMPLES if s.name == name), None)
    if found is None:
        abort(404)
    _require(found.importer)
    return send_file(found.path, as_attachment=True, download_name=found.name)


def _load(importer: str, sha: str) -> bytes:
    _require(importer)
    data = uploads.load_upload(sha, current_user.id)
    if data is None:
        abort(404)
    return data


def _saved(importer: str, name: str | None) -> dict[str, str] | None:
    if not name:
        return None
    saved = get_mapping(importer, name, mapping_college(current_user, _college()))
    if saved is None:
        flash(_("No saved mapping named %(name)s.", name=name), "warning")
        return None
    return saved.columns


def _submitted(importer: str, data: bytes):
    """The posted mapping form, built on the header found as on the first view,
    and its column overrides; 400 if the form does not validate."""
    base = _saved(importer, request.form.get("mapping"))
    header, _rows = read_header(data, importer, base)
    form = mapping_form(importer, header.names, header.columns)
    keys = column_keys(header.names)
    overrides = {
        keys[int(f.name.removeprefix("col_"))]: f.data or ""
        for f in column_fields(form)
    }
    if not form.validate_on_submit():
        abort(400)
    return form, overrides


def _run(importer: str, data: bytes, filename: str, overrides, **options):
    plan, applied = run_import(importer, data, filename=filename, actor=current_user,
                               now=utcnow(), overrides=overrides, college=_college(),
                               **options)  # fmt: skip
    return plan, applied


def _refused(exc: FileRefused):
    db.session.rollback()
    flash(_("This file cannot be imported: %(reason)s",
            reason=_(exc.template, **exc.params)), "danger")  # fmt: skip
    return _go(url_for("onboarding.index"))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge):
    """A body over the upload page's limit: the importer's message, the page again."""
    return _refused(FileRefused("too_large", limit=MAX_BYTES // (1024 * 1024)))


def _render_preview(plan: Plan, sha: str, form):
    return render_template("onboarding/preview.html", plan=plan, sha=sha, form=form,
                           columns=column_fields(form), limit=PREVIEW_ROWS,
                           college=_college())  # fmt: skip


@bp.route("/imports/<importer>/<sha>")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def preview(importer: str, sha: str):
    """The dry run: the detected mapping (editable) and what each row will do."""
    data = _load(importer, sha)
    filename = request.args.get("filename") or "upload"
    name = request.args.get("mapping")
    try:
        plan, _applied = _run(importer, data, filename, _saved(importer, name),
                              dry_run=True)  # fmt: skip
    except FileRefused as exc:
        return _refused(exc)
    db.session.rollback()  # a dry run keeps nothing
    form = mapping_form(importer, plan.header.names, plan.header.columns,
                        filename=filename, mapping=name or "")  # fmt: skip
    return _render_preview(plan, sha, form)


@bp.post("/imports/<importer>/<sha>/check")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def check(importer: str, sha: str):
    """The dry run again with the mapping as changed; saved under a name if asked."""
    data = _load(importer, sha)
    form = None
    try:
        form, overrides = _submitted(importer, data)
        plan, _applied = _run(importer, data, form.filename.data or "upload", overrides,
                              dry_run=True)  # fmt: skip
    except FileRefused as exc:
        return _unmapped(importer, sha, data, form, exc)
    db.session.rollback()
    if form.save_as.data:  # only a mapping that finds the header is kept
        save_mapping(
            importer, form.save_as.data.strip(), overrides, actor=current_user,
            institution_id=mapping_college(current_user, _college()),
        )  # fmt: skip
        db.session.commit()
        flash(_("The mapping is saved as %(name)s.", name=form.save_as.data), "success")
    return _render_preview(plan, sha, form)


def _unmapped(importer: str, sha: str, data: bytes, form, exc: FileRefused):
    """The posted columns find no header (the file itself read on the first view):
    the preview again, the user's choices kept, as first found below them."""
    db.session.rollback()
    if form is None or exc.code != "no_header":
        return _refused(exc)
    flash(_("These columns cannot be used: %(reason)s",
            reason=_(exc.template, **exc.params)), "danger")  # fmt: skip
    try:
        plan, _applied = _run(importer, data, form.filename.data or "upload",
                              _saved(importer, form.mapping.data), dry_run=True)  # fmt: skip
    except FileRefused as first:
        return _refused(first)
    db.session.rollback()
    return _render_preview(plan, sha, form)


@bp.post("/imports/<importer>/<sha>/apply")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def apply(importer: str, sha: str):
    """Apply the valid rows, all or none; the result page shows the links once."""
    data = _load(importer, sha)
    form = None
    try:
        form, overrides = _submitted(importer, data)
        verified = bool(getattr(form, "verified", None) and form.verified.data)
        plan, applied = _run(importer, data, form.filename.data or "upload", overrides,
                             verified=verified, link=activation_link)  # fmt: skip
        db.session.commit()
    except FileRefused as exc:
        return _unmapped(importer, sha, data, form, exc)
    except Exception:
        db.session.rollback()  # all rows or none
        raise
    links = {
        a.user_id: activation_link(a.token) for a in applied.accounts if not a.mailed
    }
    result = uploads.store_result(result_workbook(plan, applied.accounts, links),
                                  current_user.id)  # fmt: skip
    return render_template("onboarding/result.html", plan=plan, accounts=applied.accounts,
                           links=links, result=result)  # fmt: skip


@bp.route("/imports/results/<name>.xlsx")
@role_required(Role.ADMIN, Role.COLLEGE_ADMIN, Role.HEAD)
def result_file(name: str):
    """The result workbook: error rows with 错误原因, and the activation links."""
    data = uploads.load_result(name, current_user.id)
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name=f"import-result-{utcnow():%Y%m%d-%H%M}.xlsx")  # fmt: skip


def activation_link(token: str) -> str:
    """The activation page's absolute URL: PUBLIC_BASE_URL, else the host asked."""
    if base := current_app.config.get("PUBLIC_BASE_URL"):
        return base.rstrip("/") + url_for("onboarding.activate", token=token)
    return url_for("onboarding.activate", token=token, _external=True)


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token: str):
    """Choose the first password of an imported account (the link works once)."""
    now = utcnow()
    if not activation.is_usable(token, now):
        return _no_store(_invalid_link())
    form = ActivationForm()
    if form.validate_on_submit():
        user = activation.activate(token, form.new_password.data, now)
        if user is None:  # spent by a concurrent request meanwhile
            db.session.rollback()
            return _no_store(_invalid_link())
        db.session.commit()
        logout_user()
        # The login may not be the staff number (another college has it): say it.
        flash(_("Your password is set. Please log in as %(username)s.",
                username=user.username), "success")  # fmt: skip
        return redirect(url_for("auth.login"))
    return _no_store(render_template("onboarding/activate.html", form=form))


def _invalid_link():
    flash(_("This activation link is not valid any more: it was used, or it expired. "
            "Ask your college's administrator for a new one."), "warning")  # fmt: skip
    return redirect(url_for("auth.login"))


def _no_store(response):
    # The page is reached without signing in, by a secret URL: never cached.
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = NO_STORE
    return response
