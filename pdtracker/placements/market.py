"""The marketplace's workflows: publish offers, request seats, confirm or decline.

Seats are never oversubscribed: every step that takes or frees a seat first
locks the offer's row (:func:`pdtracker.locking.lock_or_404`), then counts the
seat-holding requests, so concurrent requests for the last seat take turns and
exactly one gets it. Services take an explicit ``actor`` and ``now`` and never
commit; the views commit once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import joinedload

from pdtracker.audit import record
from pdtracker.auth.models import Role, User
from pdtracker.dates import month_end
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.locking import lock_or_404
from pdtracker.notifications import outcomes
from pdtracker.notifications.models import NotificationKind
from pdtracker.placements.market_models import (
    PENDING,
    SEAT_HOLDING,
    EnterpriseMentor,
    OfferStatus,
    PlacementOffer,
    PlacementRequest,
    RequestStatus,
)
from pdtracker.placements.models import Enterprise, Placement, PlacementStatus
from pdtracker.placements.services import plan_placement
from pdtracker.tenancy import is_deployment_admin

R = RequestStatus
OFFER_FIELDS = (
    "enterprise_id",
    "post",
    "scene",
    "tasks",
    "sector",
    "skills",
    "mentor_id",
    "seats",
    "starts_on",
    "ends_on",
    "working_days",
    "city",
    "location",
    "bring_back",
)


class MarketError(CodedError):
    """A refused marketplace step; ``code`` says why."""


# --- who may do what -------------------------------------------------------------


def is_broker(actor: User) -> bool:
    """Association staff and the deployment admin run the marketplace."""
    return actor.has_role(Role.STAFF) or is_deployment_admin(actor)


def mentor_enterprise(actor: User) -> int | None:
    """The enterprise a mentor account belongs to (None for everyone else)."""
    if not actor.has_role(Role.MENTOR):
        return None
    return db.session.scalar(
        select(EnterpriseMentor.enterprise_id).where(
            EnterpriseMentor.user_id == actor.id
        )
    )


def sees_offers(actor: User) -> bool:
    """Brokers, and heads and teachers of member colleges, read the offer list."""
    return is_broker(actor) or (
        actor.institution_id is not None and actor.has_role(Role.HEAD, Role.TEACHER)
    )


def heads_teacher(actor: User, teacher: User) -> bool:
    """A head requests seats only for teachers of their own department."""
    return (
        actor.has_role(Role.HEAD)
        and actor.department_id is not None
        and teacher.department_id == actor.department_id
        and teacher.has_role(Role.TEACHER)
    )


def request_clause(actor: User) -> ColumnElement[bool]:
    """Requests the actor may see (a clause over ``PlacementRequest`` joined to User).

    Brokers: all; a mentor: their enterprise's offers; a college admin: their
    college's teachers; a head: their department's; a teacher: their own.
    """
    if is_broker(actor):
        return true()
    clauses: list[ColumnElement[bool]] = [PlacementRequest.teacher_id == actor.id]
    enterprise_id = mentor_enterprise(actor)
    if enterprise_id is not None:
        clauses.append(PlacementOffer.enterprise_id == enterprise_id)
    if actor.has_role(Role.COLLEGE_ADMIN) and actor.institution_id is not None:
        clauses.append(User.institution_id == actor.institution_id)
    if actor.has_role(Role.HEAD) and actor.department_id is not None:
        clauses.append(User.department_id == actor.department_id)
    return or_(*clauses)


def may_decide(actor: User, offer: PlacementOffer) -> bool:
    """Staff, or a mentor of the offer's enterprise, confirm and decline."""
    return is_broker(actor) or mentor_enterprise(actor) == offer.enterprise_id


# --- reading ---------------------------------------------------------------------


def seats_held() -> Any:
    """A correlated count of the seat-holding requests of ``PlacementOffer``."""
    return (
        select(func.count())
        .select_from(PlacementRequest)
        .where(
            PlacementRequest.offer_id == PlacementOffer.id,
            PlacementRequest.status.in_(SEAT_HOLDING),
        )
        .scalar_subquery()
    )


def held_on(offer_id: int) -> int:
    """Seats held on one offer now."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(PlacementRequest)
            .where(
                PlacementRequest.offer_id == offer_id,
                PlacementRequest.status.in_(SEAT_HOLDING),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class OfferFilter:
    """The list's filters: sector, city, a month (first day) and paging."""

    sector: str | None = None
    city: str | None = None
    month: date | None = None
    open_only: bool = True


def offers_query(filters: OfferFilter, today: date) -> Select[Any]:
    """Offers with their enterprise and seats held, soonest first (one query)."""
    held = seats_held().label("held")
    query = (
        select(PlacementOffer, held)
        .select_from(PlacementOffer)
        .options(joinedload(PlacementOffer.enterprise))
        .order_by(PlacementOffer.starts_on, PlacementOffer.id)
    )
    if filters.open_only:
        query = query.where(
            PlacementOffer.status == OfferStatus.OPEN.value,
            PlacementOffer.starts_on >= today,
        )
    if filters.sector:
        query = query.where(PlacementOffer.sector == filters.sector)
    if filters.city:
        query = query.where(PlacementOffer.city == filters.city)
    if filters.month:
        first = filters.month.replace(day=1)
        query = query.where(
            PlacementOffer.starts_on <= month_end(first),
            PlacementOffer.ends_on >= first,
        )
    return query


def filter_choices() -> tuple[list[str], list[str]]:
    """The sectors and cities of open offers (one DISTINCT query)."""
    pairs = db.session.execute(
        select(PlacementOffer.sector, PlacementOffer.city)
        .where(PlacementOffer.status == OfferStatus.OPEN.value)
        .distinct()
    ).all()
    sectors = sorted({s for s, _ in pairs if s})
    cities = sorted({c for _, c in pairs if c})
    return sectors, cities


# --- offers ----------------------------------------------------------------------


def check_mentor(mentor_id: int | None, enterprise_id: int) -> None:
    """An offer's mentor is a mentor account of the offer's enterprise."""
    if mentor_id is None:
        return
    mentor = db.session.get(User, mentor_id)
    belongs = db.session.scalar(
        select(EnterpriseMentor.enterprise_id).where(
            EnterpriseMentor.user_id == mentor_id
        )
    )
    if mentor is None or not mentor.has_role(Role.MENTOR) or belongs != enterprise_id:
        raise MarketError("mentor_elsewhere")


def publish_offer(*, actor: User, now: datetime, **fields: Any) -> PlacementOffer:
    """Publish an enterprise's offer (staff and the deployment admin)."""
    if not is_broker(actor):
        raise MarketError("not_allowed")
    unknown = set(fields) - set(OFFER_FIELDS)
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    check_mentor(fields.get("mentor_id"), fields["enterprise_id"])
    enterprise = db.session.get(Enterprise, fields["enterprise_id"])
    if enterprise is None:
        raise MarketError("no_enterprise")
    fields.setdefault("city", enterprise.city)
    fields.setdefault("sector", enterprise.sector or "")
    offer = PlacementOffer(
        **fields,
        status=OfferStatus.OPEN.value,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(offer)
    db.session.flush()
    record(actor.id, "offer.publish", "placement_offer", offer.id, now=now,
           enterprise_id=offer.enterprise_id, seats=offer.seats)  # fmt: skip
    return offer


def withdraw_offer(offer: PlacementOffer, *, actor: User, now: datetime) -> None:
    """Close an offer to new requests; requests already made stand."""
    lock_or_404(offer)
    offer.status = OfferStatus.WITHDRAWN.value
    offer.updated_at = now
    record(actor.id, "offer.withdraw", "placement_offer", offer.id, now=now)


# --- requests --------------------------------------------------------------------


def _existing(offer: PlacementOffer, teacher: User) -> PlacementRequest | None:
    return db.session.scalar(
        select(PlacementRequest)
        .where(
            PlacementRequest.offer_id == offer.id,
            PlacementRequest.teacher_id == teacher.id,
        )
        .execution_options(populate_existing=True)
    )


def ask_head(offer: PlacementOffer, *, actor: User, now: datetime) -> PlacementRequest:
    """A teacher asks their head to request a seat (holds no seat yet)."""
    if actor.department_id is None or not actor.has_role(Role.TEACHER):
        raise MarketError("not_allowed")
    lock_or_404(offer)
    if offer.status != OfferStatus.OPEN.value:
        raise MarketError("offer_closed")
    existing = _existing(offer, actor)
    if existing is not None and existing.status not in (R.DECLINED, R.WITHDRAWN):
        raise MarketError("already_requested")
    request = existing or PlacementRequest(
        offer_id=offer.id, teacher_id=actor.id, created_at=now
    )
    _reopen(request, R.ASKED, actor, now)
    db.session.add(request)
    db.session.flush()
    record(actor.id, "offer.ask", "placement_request", request.id, now=now,
           offer_id=offer.id)  # fmt: skip
    return request


def request_seat(
    offer: PlacementOffer, teacher: User, *, actor: User, now: datetime
) -> PlacementRequest:
    """A head takes a seat for a teacher of their department, if one is free.

    Raises MarketError: not_allowed, offer_closed, already_requested, full.
    """
    if not heads_teacher(actor, teacher):
        raise MarketError("not_allowed")
    lock_or_404(offer)  # every seat change of this offer waits here
    if offer.status != OfferStatus.OPEN.value:
        raise MarketError("offer_closed")
    existing = _existing(offer, teacher)
    if existing is not None and existing.status in SEAT_HOLDING:
        raise MarketError("already_requested")
    if held_on(offer.id) >= offer.seats:
        raise MarketError("full")
    request = existing or PlacementRequest(
        offer_id=offer.id, teacher_id=teacher.id, created_at=now
    )
    _reopen(request, R.REQUESTED, actor, now)
    db.session.add(request)
    db.session.flush()
    record(actor.id, "offer.request", "placement_request", request.id, now=now,
           offer_id=offer.id, teacher_id=teacher.id)  # fmt: skip
    return request


def _reopen(request: PlacementRequest, status: R, actor: User, now: datetime) -> None:
    """A new or re-asked request: pending, by ``actor``, with no earlier decision
    left on it (a declined or withdrawn request may be asked again)."""
    request.status = status.value
    request.requested_by_id = actor.id
    request.decline_reason = None
    request.decided_by_id = None
    request.decided_at = None
    request.updated_at = now


def _lock_request(request: PlacementRequest) -> PlacementOffer:
    """Lock the offer (seats) and then the request; re-read both."""
    offer = request.offer
    lock_or_404(offer)
    lock_or_404(request)
    return offer


def withdraw_request(request: PlacementRequest, *, actor: User, now: datetime) -> None:
    """The head (or the asking teacher) withdraws a pending request; frees its seat."""
    _lock_request(request)
    if request.status not in PENDING:
        raise MarketError("not_pending")
    request.status = R.WITHDRAWN.value
    request.updated_at = now
    record(actor.id, "offer.withdraw_request", "placement_request", request.id,
           now=now)  # fmt: skip


def confirm_request(
    request: PlacementRequest, *, actor: User, now: datetime
) -> Placement:
    """Staff or the enterprise's mentor confirm: an approved placement, linked."""
    offer = _lock_request(request)
    if not may_decide(actor, offer):
        raise MarketError("not_allowed")
    if request.status == R.CONFIRMED:
        raise MarketError("already_confirmed")
    if request.status != R.REQUESTED:
        raise MarketError("not_requested")
    placement = plan_placement(
        actor=actor,
        teacher_id=request.teacher_id,
        enterprise_id=offer.enterprise_id,
        starts_on=offer.starts_on,
        ends_on=offer.ends_on,
        now=now,
        working_days=offer.working_days,
        tasks=offer.tasks,
        mentor_name=offer.mentor.display_name if offer.mentor else None,
    )
    placement.offer_id = offer.id
    placement.mentor_id = offer.mentor_id
    # Confirmed by the host: the placement starts approved.
    placement.status = PlacementStatus.APPROVED.value
    request.status = R.CONFIRMED.value
    request.placement_id = placement.id
    request.decided_by_id = actor.id
    request.decided_at = now
    request.updated_at = now
    db.session.flush()
    record(actor.id, "offer.confirm", "placement_request", request.id, now=now,
           placement_id=placement.id)  # fmt: skip
    _tell(request, offer, NotificationKind.PLACEMENT_REQUEST_CONFIRMED, actor, now)
    return placement


def decline_request(
    request: PlacementRequest, *, actor: User, reason: str, now: datetime
) -> None:
    """Staff or the enterprise's mentor decline, with a reason; the seat is freed."""
    reason = (reason or "").strip()
    if not reason:
        raise MarketError("reason_required")
    offer = _lock_request(request)
    if not may_decide(actor, offer):
        raise MarketError("not_allowed")
    if request.status not in PENDING:
        raise MarketError("not_pending")
    request.status = R.DECLINED.value
    request.decline_reason = reason[:500]
    request.decided_by_id = actor.id
    request.decided_at = now
    request.updated_at = now
    db.session.flush()
    record(actor.id, "offer.decline", "placement_request", request.id, now=now,
           reason=request.decline_reason)  # fmt: skip
    _tell(request, offer, NotificationKind.PLACEMENT_REQUEST_DECLINED, actor, now)


def _tell(
    request: PlacementRequest,
    offer: PlacementOffer,
    kind: NotificationKind,
    actor: User,
    now: datetime,
) -> None:
    """The teacher and whoever requested the seat hear the decision, once."""
    recipients = [
        i
        for i in (request.teacher_id, request.requested_by_id)
        if i is not None and i != actor.id
    ]
    outcomes.enqueue_outcomes(
        recipients,
        kind,
        f"{kind.value}:{request.id}:{now.isoformat()}",
        {
            "enterprise": offer.enterprise.name,
            "starts_on": offer.starts_on,
            "ends_on": offer.ends_on,
            "reason": request.decline_reason or "",
            "placement_id": request.placement_id,
        },
        now,
        object_type="placement" if request.placement_id else "placement_request",
        object_id=request.placement_id or request.id,
    )
