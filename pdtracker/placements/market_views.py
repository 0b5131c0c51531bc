"""Marketplace pages (offers and seat requests), on the placements blueprint.

Offers: listed for brokers (staff, the deployment admin) and for heads and
teachers of member colleges; published by brokers. Requests: a head's for their
department's teachers, a teacher's ask; brokers and the offer's enterprise
mentors decide. The mentors' own pages are in ``mentor_views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import Role, User
from pdtracker.auth.session import role_required
from pdtracker.auth.views import _safe_next
from pdtracker.extensions import db
from pdtracker.main.paging import page_number
from pdtracker.org.queries import department_teachers
from pdtracker.placements.market import (
    OFFER_FIELDS,
    MarketError,
    OfferFilter,
    ask_head,
    confirm_request,
    decline_request,
    filter_choices,
    held_on,
    is_broker,
    may_decide,
    offers_query,
    publish_offer,
    request_clause,
    request_seat,
    sees_offers,
    withdraw_offer,
    withdraw_request,
)
from pdtracker.placements.market_forms import (
    DeclineForm,
    OfferForm,
)
from pdtracker.placements.market_models import (
    EnterpriseMentor,
    PlacementOffer,
    PlacementRequest,
    RequestStatus,
)
from pdtracker.placements.matching import (
    conflicts_by_teacher,
    offers_for_teacher,
    practice_needed,
    teachers_for_offer,
)
from pdtracker.placements.models import Enterprise
from pdtracker.placements.views import bp, conflict_message
from pdtracker.timeutil import local_today, utcnow

PER_PAGE = 50
MARKET_ERRORS = {
    "not_allowed": _l("You cannot do this."),
    "offer_closed": _l("This offer no longer takes requests."),
    "already_requested": _l("A seat has already been requested for this teacher."),
    "full": _l("Every seat of this offer is taken."),
    "not_pending": _l("This request has already been decided."),
    "not_requested": _l("Only a request the head has made can be confirmed."),
    "already_confirmed": _l("This request has already been confirmed."),
    "reason_required": _l("Give a reason for declining."),
    "mentor_elsewhere": _l("The mentor must belong to the offer's enterprise."),
    "no_enterprise": _l("Choose an enterprise."),
}
REQUEST_LABELS: dict[str, LazyString] = {
    RequestStatus.ASKED: _l("Asked by the teacher"),
    RequestStatus.REQUESTED: _l("Requested"),
    RequestStatus.CONFIRMED: _l("Confirmed"),
    RequestStatus.DECLINED: _l("Declined"),
    RequestStatus.WITHDRAWN: _l("Withdrawn"),
}


@bp.app_template_global()
def request_status_label(status: str) -> str:
    """The translated label of a seat request's status."""
    return str(REQUEST_LABELS.get(status, status))


def _error(exc: MarketError) -> None:
    db.session.rollback()
    flash(str(MARKET_ERRORS.get(exc.code, exc.code)), "danger")


def _offer_or_404(offer_id: int) -> PlacementOffer:
    """An offer, for those who see the marketplace (a mentor: their enterprise's)."""
    offer = db.session.scalar(
        select(PlacementOffer)
        .options(joinedload(PlacementOffer.enterprise))
        .where(PlacementOffer.id == offer_id)
    )
    if offer is None:
        abort(404)
    if not (sees_offers(current_user) or may_decide(current_user, offer)):
        abort(404)
    return offer


def _request_or_404(request_id: int) -> PlacementRequest:
    found = db.session.scalar(
        select(PlacementRequest)
        .join(User, User.id == PlacementRequest.teacher_id)
        .join(PlacementOffer, PlacementOffer.id == PlacementRequest.offer_id)
        .where(PlacementRequest.id == request_id, request_clause(current_user))
    )
    if found is None:
        abort(404)
    return found


@dataclass
class RowsPage:
    """One page of a multi-column query (the shape the templates' pagers read)."""

    items: list
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _rows_page(query, per_page: int = PER_PAGE) -> RowsPage:
    """Two queries: the count, then the page's rows."""
    total = (
        db.session.scalar(
            query.with_only_columns(func.count()).order_by(None).options()
        )
        or 0
    )
    number = page_number()
    rows = db.session.execute(
        query.limit(per_page).offset((number - 1) * per_page)
    ).all()
    return RowsPage([tuple(r) for r in rows], number, max(1, -(-total // per_page)))


def _month(value: str) -> date | None:
    try:
        return date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        return None


# --- offers ------------------------------------------------------------------------


@bp.route("/offers")
@role_required(Role.STAFF, Role.ADMIN, Role.HEAD, Role.TEACHER)
def offers():
    """Open offers, filtered by sector, city and month; a teacher's suggestions."""
    if not sees_offers(current_user):
        abort(404)
    args = request.args
    filters = OfferFilter(
        sector=args.get("sector") or None,
        city=args.get("city") or None,
        month=_month(args.get("month", "")),
    )
    today = local_today()
    page = _rows_page(offers_query(filters, today))
    sectors, cities = filter_choices()
    suggestions = (
        offers_for_teacher(current_user, today)[:5]
        if current_user.has_role(Role.TEACHER) and not is_broker(current_user)
        else []
    )
    return render_template(
        "placements/offers.html",
        page=page,
        filters=filters,
        sectors=sectors,
        cities=cities,
        suggestions=suggestions,
        is_broker=is_broker(current_user),
    )


def _offer_form(**kwargs) -> OfferForm:
    enterprises = list(db.session.scalars(select(Enterprise).order_by(Enterprise.name)))
    mentors = db.session.execute(
        select(User, Enterprise.name)
        .join(EnterpriseMentor, EnterpriseMentor.user_id == User.id)
        .join(Enterprise, Enterprise.id == EnterpriseMentor.enterprise_id)
        .order_by(Enterprise.name, User.display_name)
    ).all()
    return OfferForm(
        enterprises=enterprises, mentors=[(m, e) for m, e in mentors], **kwargs
    )


@bp.route("/offers/new", methods=["GET", "POST"])
@role_required(Role.STAFF, Role.ADMIN)
def offer_create():
    """Publish an enterprise's offer."""
    form = _offer_form()
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in OFFER_FIELDS}
        values["mentor_id"] = values["mentor_id"] or None
        if not values["city"]:
            values.pop("city")
        try:
            offer = publish_offer(actor=current_user, now=utcnow(), **values)
        except MarketError as exc:
            _error(exc)
        else:
            db.session.commit()
            flash(_("The offer has been published."), "success")
            return redirect(url_for("placements.offer_detail", offer_id=offer.id))
    return render_template("placements/offer_form.html", form=form)


@bp.route("/offers/<int:offer_id>")
@role_required(Role.STAFF, Role.ADMIN, Role.HEAD, Role.TEACHER, Role.MENTOR)
def offer_detail(offer_id: int):
    """One offer: a head's teachers with the days still needed and conflicts;
    the requests for those who decide."""
    offer = _offer_or_404(offer_id)
    today = local_today()
    rows = []
    if current_user.has_role(Role.HEAD) and current_user.department_id:
        teachers = department_teachers(current_user.department_id)
        needed = practice_needed(((t.id, t.institution_id) for t in teachers), today)
        conflicts = conflicts_by_teacher(
            [t.id for t in teachers], offer.starts_on, offer.ends_on
        )
        rows = [
            (
                t,
                needed.get(t.id),
                [conflict_message(c) for c in conflicts.get(t.id, [])],
            )
            for t in teachers
        ]
        rows.sort(key=lambda r: (-(r[1] or 0), r[0].display_name))
    requests = list(
        db.session.execute(
            select(PlacementRequest, User)
            .join(User, User.id == PlacementRequest.teacher_id)
            .join(PlacementOffer, PlacementOffer.id == PlacementRequest.offer_id)
            .where(PlacementRequest.offer_id == offer.id, request_clause(current_user))
            .order_by(PlacementRequest.created_at, PlacementRequest.id)
        )
    )
    mine = next((r for r, t in requests if r.teacher_id == current_user.id), None)
    return render_template(
        "placements/offer_detail.html",
        offer=offer,
        held=held_on(offer.id),
        rows=rows,
        requests=requests,
        mine=mine,
        decides=may_decide(current_user, offer),
        is_broker=is_broker(current_user),
        decline_form=DeclineForm(),
    )


@bp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
@role_required(Role.STAFF, Role.ADMIN)
def offer_withdraw(offer_id: int):
    """Close an offer to new requests."""
    offer = _offer_or_404(offer_id)
    withdraw_offer(offer, actor=current_user, now=utcnow())
    db.session.commit()
    flash(_("The offer no longer takes requests."), "success")
    return redirect(url_for("placements.offer_detail", offer_id=offer_id))


@bp.route("/offers/<int:offer_id>/matches")
@role_required(Role.STAFF, Role.ADMIN)
def offer_matches(offer_id: int):
    """Member-college teachers whose gap and sector fit and whose dates are free."""
    offer = _offer_or_404(offer_id)
    return render_template(
        "placements/offer_matches.html",
        offer=offer,
        candidates=teachers_for_offer(offer, local_today()),
    )


def _back(offer_id: int) -> str:
    """Where a seat action returns: the page it was pressed on (the form's ``next``,
    a same-site path only), else the offer's page."""
    target = request.form.get("next")
    if target and _safe_next(target) == target:
        return target
    return url_for("placements.offer_detail", offer_id=offer_id)


@bp.route("/offers/<int:offer_id>/request", methods=["POST"])
@role_required(Role.HEAD)
def offer_request(offer_id: int):
    """A head requests a seat for a teacher of their department."""
    offer = _offer_or_404(offer_id)
    teacher = db.session.get(User, request.form.get("teacher_id", type=int) or 0)
    if teacher is None or teacher.department_id != current_user.department_id:
        abort(404)  # another department's (or college's) teacher: not found
    try:
        request_seat(offer, teacher, actor=current_user, now=utcnow())
    except MarketError as exc:
        _error(exc)
    else:
        db.session.commit()
        flash(_("A seat has been requested."), "success")
    return redirect(_back(offer_id))


@bp.route("/offers/<int:offer_id>/ask", methods=["POST"])
@role_required(Role.TEACHER)
def offer_ask(offer_id: int):
    """A teacher asks their head to request a seat."""
    offer = _offer_or_404(offer_id)
    try:
        ask_head(offer, actor=current_user, now=utcnow())
    except MarketError as exc:
        _error(exc)
    else:
        db.session.commit()
        flash(_("Your head has been asked to request a seat."), "success")
    return redirect(_back(offer_id))


# --- requests ----------------------------------------------------------------------


@bp.route("/requests")
@role_required(Role.STAFF, Role.ADMIN, Role.HEAD, Role.MENTOR, Role.COLLEGE_ADMIN)
def requests_list():
    """Seat requests in the user's scope, pending first."""
    query = (
        select(PlacementRequest, User, PlacementOffer)
        .join(User, User.id == PlacementRequest.teacher_id)
        .join(PlacementOffer, PlacementOffer.id == PlacementRequest.offer_id)
        .options(joinedload(PlacementOffer.enterprise))
        .where(request_clause(current_user))
        .order_by(PlacementRequest.updated_at.desc(), PlacementRequest.id.desc())
    )
    status = request.args.get("status", "")
    if status in REQUEST_LABELS:
        query = query.where(PlacementRequest.status == status)
    return render_template(
        "placements/requests.html",
        page=_rows_page(query),
        status=status,
        statuses=list(RequestStatus),
    )


def _decide(request_id: int, action, message: str, **kwargs):
    found = _request_or_404(request_id)
    offer_id = found.offer_id
    try:
        action(found, actor=current_user, now=utcnow(), **kwargs)
    except MarketError as exc:
        _error(exc)
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("placements.offer_detail", offer_id=offer_id))


@bp.route("/requests/<int:request_id>/confirm", methods=["POST"])
@role_required(Role.STAFF, Role.ADMIN, Role.MENTOR)
def request_confirm(request_id: int):
    """Confirm a request: an approved placement in the teacher's department."""
    return _decide(request_id, confirm_request, _("The request is confirmed."))


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@role_required(Role.STAFF, Role.ADMIN, Role.MENTOR)
def request_decline(request_id: int):
    """Decline a request, with a reason."""
    form = DeclineForm()
    return _decide(
        request_id,
        decline_request,
        _("The request is declined."),
        reason=form.reason.data or "",
    )


@bp.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@role_required(Role.HEAD, Role.TEACHER)
def request_withdraw(request_id: int):
    """The head, or the asking teacher, withdraws a pending request."""
    found = _request_or_404(request_id)
    if not (found.teacher_id == current_user.id or current_user.has_role(Role.HEAD)):
        abort(404)
    return _decide(request_id, withdraw_request, _("The request is withdrawn."))
