"""Offers on a teacher's path to the next level: the dashboard's few suggestions.

The enterprise offers that close the teacher's enterprise-practice gap soonest
(:func:`pdtracker.placements.matching.offers_closing`), with the teacher's own
requests on them and what the viewer may do: the head requests a seat, the
teacher asks their head.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.placements.market import heads_teacher, sees_offers
from pdtracker.placements.market_models import PlacementRequest
from pdtracker.placements.matching import Suggestion, offers_closing
from pdtracker.placements.timeline import practice_ruleset
from pdtracker.progress.definitions import Ruleset
from pdtracker.progress.engine import ProgressReport, RequirementResult

# Offers shown on the path to the next level.
ON_PATH = 3


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
