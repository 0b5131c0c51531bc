"""The snapshot an application freezes: the engine's report under the round's
ruleset, the activities it counted and their evidence files (name and SHA-256).

The snapshot is plain JSON stored on the application; nothing reads the live
activities again for it, so later edits never change a submitted application.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pdtracker.activities.models import Activity, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.progress.engine import (
    ProgressReport,
    RequirementResult,
    evaluate,
    report_to_dict,
)
from pdtracker.progress.facts import by_ids, gather
from pdtracker.progress.services import industry_years, is_professional
from pdtracker.recognition.models import RecognitionRound
from pdtracker.recognition.rulesets import round_ruleset
from pdtracker.timeutil import local_today


@dataclass(frozen=True)
class Snapshot:
    """What an application freezes, and the engine's pre-check."""

    data: dict[str, Any]
    meets: bool
    explanation: list[dict[str, Any]]


def _counted_ids(results: Iterable[RequirementResult]) -> set[int]:
    ids: set[int] = set()
    for rr in results:
        for found in (rr, *rr.alternatives):
            ids.update(i for i in found.counted if isinstance(i, int))
            ids.update(i for i, _ in found.credits if isinstance(i, int))
    return ids


def _levels_up_to(report: ProgressReport, level: str) -> list[Any]:
    codes = [lr.code for lr in report.levels]
    return list(report.levels[: codes.index(level) + 1]) if level in codes else []


def _explanation(report: ProgressReport, level: str) -> list[dict[str, Any]]:
    """One line of data per requirement up to the applied level (views word it)."""
    out = []
    for lr in _levels_up_to(report, level):
        for rr in lr.requirements:
            out.append(
                {
                    "level": lr.code,
                    "code": rr.code,
                    "name_zh": rr.name.zh or rr.code,
                    "name_en": rr.name.en or rr.name.zh or rr.code,
                    "unit": rr.unit,
                    "required": rr.required,
                    "credited": rr.credited,
                    "met": rr.met,
                }
            )
    return out


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _activity(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind_code,
        "title": a.title,
        "organizer": a.organizer,
        "starts_on": _iso(a.starts_on),
        "ends_on": _iso(a.ends_on),
        "hours": None if a.hours is None else float(a.hours),
        "days": a.days,
        "role": a.role,
        "grade": a.grade,
        "verified_at": None if a.verified_at is None else a.verified_at.isoformat(),
        "evidence": [
            {
                "id": f.id,
                "name": f.original_name,
                "sha256": f.sha256,
                "size": f.size_bytes,
            }
            for f in a.evidence
        ],  # fmt: skip
    }


def take(teacher: User, rnd: RecognitionRound, level: str, now: datetime) -> Snapshot:
    """Evaluate the teacher under the round's ruleset today and freeze the result."""
    ruleset = round_ruleset(rnd)
    as_of = local_today(now)
    entry = gather(by_ids([teacher.id]), now).get(teacher.id)
    report = evaluate(
        ruleset,
        entry.facts if entry is not None else [],
        as_of,
        professional_course=is_professional(teacher),
        industry_years=industry_years(teacher),
    )
    reached = {lr.code for lr in report.levels if lr.reached}
    counted = _counted_ids(
        rr for lr in _levels_up_to(report, level) for rr in lr.requirements
    )
    activities = (
        db.session.scalars(
            select(Activity)
            .where(
                Activity.id.in_(sorted(counted)),
                Activity.teacher_id == teacher.id,
                Activity.status == ActivityStatus.VERIFIED.value,
            )
            .options(selectinload(Activity.evidence))
            .order_by(Activity.starts_on, Activity.id)
        ).all()
        if counted
        else []
    )
    data = {
        "taken_at": now.isoformat(),
        "as_of": as_of.isoformat(),
        "ruleset": {"name": rnd.ruleset_name, "version": rnd.ruleset_version},
        "level_applied": level,
        "report": report_to_dict(report),
        "activities": [_activity(a) for a in activities],
    }
    return Snapshot(data, level in reached, _explanation(report, level))


def activity_ids(snapshot: dict[str, Any]) -> list[int]:
    """The counted activities' ids in a stored snapshot."""
    return [int(a["id"]) for a in snapshot.get("activities", [])]
