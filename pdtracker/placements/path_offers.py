"""Offers on a teacher's path to the next level: the dashboard's few suggestions.

The enterprise offers that close the teacher's enterprise-practice gap soonest
(:func:`pdtracker.placements.matching.offers_closing`), with the teacher's own
requests on them and what the viewer may do: the head requests a seat, the
teacher asks their head.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.placements.market import heads_teacher, sees_offers
from pdtracker.placements.market_models import PlacementRequest
from pdtracker.placements.matching import Suggestion, offers_closing
from pdtracker.placements.timeline import practice_ruleset
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.engine import ProgressReport, RequirementResult
from pdtracker.progress.services import TeacherStatus

# Offers shown on the path to the next level.
ON_PATH = 3


@dataclass(frozen=True)
class OfferView:
    """What the dashboard shows of an offer, apart from any database session."""

    id: int
    post: str
    enterprise_name: str
    starts_on: date
    ends_on: date
    seats: int
    city: str | None


@dataclass(frozen=True)
class PathOffers:
    """Offers shown on a teacher's path to the next level, and what the viewer may do."""

    result: RequirementResult  # the unmet enterprise-practice requirement
    suggestions: list[Suggestion]
    requests: dict[int, str]  # offer id -> the teacher's request on it (not a seat)
    may_request: bool  # the viewer heads the teacher's department
    may_ask: bool  # the viewer is the teacher and may ask their head


def path_offers(
    viewer: User, teacher: User, report: ProgressReport, ruleset: Ruleset
) -> PathOffers | None:
    """The few offers that close the teacher's enterprise-practice gap soonest.

    None unless the next level still needs enterprise-practice days that what
    is planned does not cover, offers are listed for the teacher (a member
    college's teacher) and the viewer may open them. At most four queries,
    whatever the number of offers.
    """
    practice = practice_ruleset(ruleset)
    level = report.next_level
    if practice is None or level is None:
        return None
    unmet = {
        r.code: r
        for group in level.requirements
        if not group.met
        for r in (group, *group.alternatives)
        if not r.met
    }
    result = unmet.get(practice[1].code)
    if result is None or result.forecast_met_on is not None:
        return None
    if not (sees_offers(teacher) and sees_offers(viewer)):
        return None
    found = offers_closing(teacher, practice[1], result.missing, report.as_of, ON_PATH)
    requests: dict[int, str] = {}
    if found:
        rows = db.session.execute(
            select(PlacementRequest.offer_id, PlacementRequest.status).where(
                PlacementRequest.teacher_id == teacher.id,
                PlacementRequest.offer_id.in_([s.offer.id for s in found]),
            )
        )
        requests = {offer_id: status for offer_id, status in rows}
    may_request = heads_teacher(viewer, teacher)
    may_ask = (
        viewer.id == teacher.id
        and not may_request
        and teacher.department_id is not None
    )
    return PathOffers(result, found, requests, may_request, may_ask)


def kept_path_offers(
    viewer: User, teacher: User, status: TeacherStatus, ruleset: Ruleset
) -> PathOffers | None:
    """:func:`path_offers`, kept with the cached status while the marketplace's
    version (read with the status's key) and the viewer stay the same.

    The status changes with the teacher's records, roles, placements,
    registrations and the date; the marketplace's version with every offer, seat
    request (the teacher's own too), department sector and enterprise. Kept as
    plain data (OfferView), one entry per status: a warm dashboard then runs no
    offer query.
    """
    key = (
        "offers", status.market_version, status.report.as_of,
        viewer.id, frozenset(viewer.role_set), viewer.department_id,
        viewer.institution_id, teacher.department_id, teacher.institution_id,
    )  # fmt: skip
    kept = status.fragments.get("offers")
    if kept is not None and kept[0] == key:
        return kept[1]
    found = path_offers(viewer, teacher, status.report, ruleset)
    if found is not None:
        found = replace(found, suggestions=[_viewed(s) for s in found.suggestions])
    status.fragments["offers"] = (key, found)
    return found


def _viewed(suggestion: Suggestion) -> Suggestion:
    offer = suggestion.offer
    view = OfferView(
        offer.id, offer.post, offer.enterprise.name, offer.starts_on, offer.ends_on,
        offer.seats, offer.city,
    )  # fmt: skip
    return replace(suggestion, offer=view)  # type: ignore[arg-type]
