"""The portfolio for an application: profile, status with explanations, activities and
their evidence list as a PDF, and the evidence files themselves as a ZIP.

With an application, everything comes from its frozen snapshot (what was
submitted); without one, from the teacher's current status under the active
ruleset. ZIP entries are named so a person finds each file:
``2026-03-10_专家讲座_证明.pdf`` (date, kind, the uploader's name), and a
清单.txt lists every file with its SHA-256 and whether it still matches.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pdtracker.activities.evidence import stored_path
from pdtracker.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    EvidenceFile,
)
from pdtracker.auth.models import User
from pdtracker.downloads import download_name
from pdtracker.extensions import db
from pdtracker.placements.market_models import (
    SCORE_FIELDS,
    MentorAssessment,
    ScoreScale,
)
from pdtracker.placements.mentors import days_on_site, teacher_assessments
from pdtracker.progress.records import active_ruleset_for
from pdtracker.progress.services import evaluate_teacher
from pdtracker.recognition.models import RecognitionApplication
from pdtracker.timeutil import app_zone, to_local

# ZIP entries get a fixed time: the same files give the same archive.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST = "清单.txt"


@dataclass
class Portfolio:
    """Everything the portfolio PDF and ZIP show."""

    teacher: User
    profile: dict[str, Any]
    as_of: str
    level: str | None
    level_applied: str | None
    status: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    kind_labels: dict[str, str] = field(default_factory=dict)
    # The mentors' 企业实践考核表 of completed placements, oldest first.
    assessments: list[dict[str, Any]] = field(default_factory=list)


def _profile(teacher: User) -> dict[str, Any]:
    profile = teacher.teacher_profile
    return {
        "name": teacher.display_name,
        "staff_number": profile.staff_number if profile else "",
        "title": (profile.title if profile else None) or "",
        "industry_years": profile.prior_industry_years if profile else 0,
        "department": teacher.department.name if teacher.department else "",
        "college": teacher.institution.name if teacher.institution else "",
    }


def _activity(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind_code, "title": a.title, "organizer": a.organizer,
        "starts_on": a.starts_on.isoformat(),
        "ends_on": a.ends_on.isoformat() if a.ends_on else None,
        "hours": None if a.hours is None else float(a.hours), "days": a.days,
        "evidence": [
            {"id": f.id, "name": f.original_name, "sha256": f.sha256,
             "size": f.size_bytes}
            for f in a.evidence
        ],
    }  # fmt: skip


def _status_lines(report: Any) -> list[dict[str, Any]]:
    out = []
    for lr in report.levels:
        for rr in lr.requirements:
            out.append(
                {
                    "level": lr.code, "code": rr.code, "name_zh": rr.name.zh or rr.code,
                    "unit": rr.unit, "required": rr.required,
                    "credited": rr.credited, "met": rr.met,
                }
            )  # fmt: skip
    return out


def _score(assessment: MentorAssessment, value: int) -> str:
    """优/良/中/差, or points out of 100."""
    shown = assessment.shown(value)
    return shown if assessment.scale == ScoreScale.GRADE else f"{shown}/100"


def assessments(
    teacher_id: int, activity_ids: Collection[int] | None = None
) -> list[dict[str, Any]]:
    """The 考核表 of the teacher's completed placements (of those credited as
    ``activity_ids``, when given), as the portfolio prints them. Two queries."""
    pairs = teacher_assessments(teacher_id, activity_ids)
    on_site = days_on_site([p.id for p, _a in pairs])
    zone = app_zone()
    return [
        {
            "placement_id": p.id, "enterprise": p.enterprise.name,
            "mentor": a.mentor.display_name if a.mentor else p.mentor_name or "",
            "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
            "scores": {name: _score(a, getattr(a, name)) for name in SCORE_FIELDS},
            "comments": a.comments or "", "confirmed_days": a.confirmed_days,
            "days_on_site": on_site.get(p.id, 0),
            "submitted_on": to_local(a.submitted_at, zone).date().isoformat(),
        }
        for p, a in pairs
    ]  # fmt: skip


def kind_labels() -> dict[str, str]:
    """Chinese kind labels by code."""
    return {k.code: k.label_zh for k in db.session.scalars(select(ActivityKind))}


def current_portfolio(teacher: User, now: datetime) -> Portfolio:
    """The teacher's portfolio as things stand (no application)."""
    status = evaluate_teacher(
        teacher, active=active_ruleset_for(teacher.institution_id), now=now
    )
    activities = db.session.scalars(
        select(Activity)
        .where(
            Activity.teacher_id == teacher.id,
            Activity.status == ActivityStatus.VERIFIED.value,
        )
        .options(selectinload(Activity.evidence))
        .order_by(Activity.starts_on, Activity.id)
    )
    return Portfolio(
        teacher=teacher, profile=_profile(teacher),
        as_of=status.report.as_of.isoformat(), level=status.report.level,
        level_applied=None, status=_status_lines(status.report),
        activities=[_activity(a) for a in activities], kind_labels=kind_labels(),
        assessments=assessments(teacher.id),
    )  # fmt: skip


def application_portfolio(application: RecognitionApplication) -> Portfolio:
    """The portfolio of an application, from the snapshot it froze."""
    snap = application.snapshot
    report = snap.get("report", {})
    activities = list(snap.get("activities", []))
    # A 考核表 is final once its placement completes: those of the placements
    # credited as the submitted activities are what was submitted.
    submitted = [a["id"] for a in activities if isinstance(a.get("id"), int)]
    return Portfolio(
        teacher=application.teacher, profile=_profile(application.teacher),
        as_of=snap.get("as_of", ""), level=report.get("level"),
        level_applied=application.level_applied,
        status=list(application.precheck_explanation or []),
        activities=activities, kind_labels=kind_labels(),
        assessments=assessments(application.teacher_id, submitted),
    )  # fmt: skip


def entry_name(
    activity: Mapping[str, Any],
    evidence: Mapping[str, Any],
    labels: Mapping[str, str],
    content_type: str,
) -> str:
    """``2026-03-10_专家讲座_证明.pdf``: date, kind label, the uploader's name."""
    original = download_name(evidence.get("name"), content_type, "evidence")
    stem = PurePosixPath(original).stem.replace("/", "_")
    suffix = PurePosixPath(original).suffix
    kind = labels.get(activity["kind"], activity["kind"])
    return f"{activity['starts_on']}_{kind}_{stem}{suffix}"


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}{suffix}", n + 1
    taken.add(candidate)
    return candidate


def evidence_zip(portfolio: Portfolio, upload_folder: str) -> bytes:
    """The portfolio's evidence files in one ZIP with a manifest (deterministic)."""
    ids = [e["id"] for a in portfolio.activities for e in a["evidence"]]
    rows = {
        f.id: f
        for f in db.session.scalars(
            select(EvidenceFile)
            .join(Activity, Activity.id == EvidenceFile.activity_id)
            .where(
                EvidenceFile.id.in_(ids), Activity.teacher_id == portfolio.teacher.id
            )
        )
    } if ids else {}  # fmt: skip
    buffer, taken = io.BytesIO(), {MANIFEST}
    lines = [f"{portfolio.profile['name']} {portfolio.profile['staff_number']}", ""]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for activity in portfolio.activities:
            for evidence in activity["evidence"]:
                lines.append(_add(archive, activity, evidence, rows, portfolio,
                                  upload_folder, taken))  # fmt: skip
        info = zipfile.ZipInfo(MANIFEST, ZIP_TIME)
        archive.writestr(info, "\r\n".join(lines) + "\r\n", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _add(
    archive: zipfile.ZipFile,
    activity: Mapping[str, Any],
    evidence: Mapping[str, Any],
    rows: Mapping[int, EvidenceFile],
    portfolio: Portfolio,
    upload_folder: str,
    taken: set[str],
) -> str:
    """Add one file; return its manifest line (missing or changed files say so)."""
    row = rows.get(evidence["id"])
    label = f"{activity['starts_on']} {activity['title']}: {evidence['name']}"
    if row is None:
        return f"{label}  [missing: deleted since]  sha256={evidence['sha256']}"
    path = stored_path(upload_folder, row.stored_name)
    if not path.is_file():
        return f"{label}  [missing file]  sha256={evidence['sha256']}"
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    name = _unique(
        entry_name(activity, evidence, portfolio.kind_labels, row.content_type), taken
    )
    archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    note = "" if digest == evidence["sha256"] else "  [changed since submitted]"
    return f"{name}  sha256={digest}{note}"


def portfolio_created(portfolio: Portfolio) -> datetime:
    """The PDF's creation date: the snapshot's (or status's) date, for stable bytes."""
    day = date.fromisoformat(portfolio.as_of) if portfolio.as_of else date(2000, 1, 1)
    return datetime(day.year, day.month, day.day)
