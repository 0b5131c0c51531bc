"""Issuing papers, finding them within the actor's scope, and what their state is.

A paper's number is ``PD`` and 16 characters of base32 from 80 random bits: it
cannot be guessed and says nothing about the database id or the issue order.
Services flush and never commit; the view (or the command) commits once.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pdtracker.activities.models import Activity, ActivityKind, ActivityStatus
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.failures import CodedError
from pdtracker.papers.models import Paper, PaperKind, PaperState
from pdtracker.papers.pdf import qr_data_uri, render_pdf
from pdtracker.papers.statements import (
    TRAINING_UNITS,
    build_lines,
    credit_rules,
    statement_claims,
)
from pdtracker.progress.records import active_ruleset_for, active_rulesets_for
from pdtracker.recognition.models import STANDING, Recognition
from pdtracker.tenancy import people_clause
from pdtracker.timeutil import to_local

NUMBER_PREFIX = "PD"
# A statement covers at most this many years (a bound on what one PDF lists).
MAX_PERIOD_DAYS = 366 * 10


class PaperRefused(CodedError):
    """A paper cannot be issued: ``bad_period``, ``not_a_teacher``, ``not_active``."""


def new_number() -> str:
    """A fresh unguessable paper number: PD + 16 base32 characters (80 bits)."""
    return NUMBER_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()


def check_url(base_url: str, number: str) -> str:
    """The absolute URL of the paper's public check page (what its QR code holds)."""
    return f"{base_url.rstrip('/')}/verify/{number}"


def _college(teacher: User) -> str:
    return teacher.institution.name if teacher.institution else ""


def _department(teacher: User) -> str:
    return teacher.department.name if teacher.department else ""


def _staff_number(teacher: User) -> str:
    profile = teacher.teacher_profile
    return profile.staff_number if profile else ""


def statement_activities(teacher_id: int, start: date, end: date) -> list[Activity]:
    """Verified activities of hours or days kinds that ended in the period."""
    last_day = func.coalesce(Activity.ends_on, Activity.starts_on)
    return list(
        db.session.scalars(
            select(Activity)
            .join(ActivityKind, ActivityKind.code == Activity.kind_code)
            .where(
                Activity.teacher_id == teacher_id,
                Activity.status == ActivityStatus.VERIFIED.value,
                ActivityKind.unit.in_(TRAINING_UNITS),
                last_day >= start,
                last_day <= end,
            )
            .options(
                selectinload(Activity.verified_by), selectinload(Activity.enterprise)
            )
        )
    )


def _store(
    paper: Paper, template: str, base_url: str, now: datetime, **context: Any
) -> Paper:
    url = check_url(base_url, paper.number)
    paper.claims = {**paper.claims, "check_url": url}
    paper.pdf = render_pdf(
        template, created=now, paper=paper, claims=paper.claims,
        qr=qr_data_uri(url), check_url=url, **context,
    )  # fmt: skip
    paper.pdf_sha256 = hashlib.sha256(paper.pdf).hexdigest()
    db.session.add(paper)
    db.session.flush()
    return paper


def issue_hours_statement(
    teacher: User,
    start: date,
    end: date,
    *,
    actor: User,
    now: datetime,
    base_url: str,
) -> Paper:
    """Issue the teacher's 学时证明 for [start, end], with a number and its PDF."""
    if end < start or (end - start).days > MAX_PERIOD_DAYS:
        raise PaperRefused("bad_period")
    if teacher.teacher_profile is None:
        raise PaperRefused("not_a_teacher")
    active = active_ruleset_for(teacher.institution_id)
    lines, totals, hours, days = build_lines(
        statement_activities(teacher.id, start, end), credit_rules(active.ruleset)
    )
    claims = statement_claims(
        name=teacher.display_name, college=_college(teacher),
        department=_department(teacher), staff_number=_staff_number(teacher),
        period=(start, end), lines=lines, totals=totals, hours=hours, days=days,
        ruleset=f"{active.name} v{active.version}",
    )  # fmt: skip
    claims["issued_on"] = to_local(now, teacher.timezone).date().isoformat()
    paper = Paper(
        number=new_number(), kind=PaperKind.HOURS_STATEMENT.value,
        teacher_id=teacher.id, institution_id=teacher.institution_id,
        period_start=start, period_end=end, total_hours=hours, total_days=days,
        claims=claims, issued_at=now, issued_by_id=actor.id,
    )  # fmt: skip
    _store(paper, "statement.html", base_url, now)
    record(actor.id, "paper.issue", "paper", paper.id, now,
           kind=paper.kind, number=paper.number)  # fmt: skip
    return paper


def level_name(level: str, institution_id: int | None) -> str:
    """A level's Chinese name in the college's active ruleset, else its code."""
    for lv in active_ruleset_for(institution_id).ruleset.levels:
        if lv.code == level:
            return lv.name.get("zh") or level
    return level


def _certificate_claims(recognition: Recognition, now: datetime) -> dict[str, Any]:
    teacher = recognition.teacher
    return {
        "name": teacher.display_name,
        "college": recognition.institution.name,
        "department": _department(teacher),
        "staff_number": _staff_number(teacher),
        "level": recognition.level,
        "level_name": level_name(recognition.level, recognition.institution_id),
        "certificate_number": recognition.certificate_number,
        "valid_from": recognition.valid_from.isoformat(),
        "valid_until": recognition.valid_until.isoformat(),
        "issued_on": to_local(now, teacher.timezone).date().isoformat(),
    }


# What a certificate states of its recognition: when one of these changes (an
# objection moves the level), the stored paper no longer says what is recognised.
CERTIFIED = ("level", "valid_from", "valid_until")


def _states_as_recognised(paper: Paper, recognition: Recognition) -> bool:
    now = {
        "level": recognition.level,
        "valid_from": recognition.valid_from.isoformat(),
        "valid_until": recognition.valid_until.isoformat(),
    }
    return all(paper.claims.get(key) == now[key] for key in CERTIFIED)


def refresh_certificate(
    recognition: Recognition, *, now: datetime, base_url: str | None = None
) -> Paper | None:
    """Print the recognition's certificate again, same number, when what it states
    (level, validity) is no longer what the recognition holds; None if none issued.

    The check link stays the one printed first (``base_url`` only for a paper
    without one), so an earlier printout's QR code still opens this paper's page.
    """
    found = db.session.scalar(
        select(Paper).where(Paper.recognition_id == recognition.id)
    )
    if found is None or _states_as_recognised(found, recognition):
        return found
    url = found.claims.get("check_url") or check_url(base_url or "", found.number)
    found.claims = _certificate_claims(recognition, now)
    found.issued_at = now
    _store(found, "certificate.html", url.removesuffix(f"/verify/{found.number}"), now)
    record(None, "paper.reissue", "paper", found.id, now, kind=found.kind,
           number=found.number, level=recognition.level)  # fmt: skip
    return found


def level_labels(recognitions: Sequence[Recognition], locale: str) -> dict[int, str]:
    """Recognition id → its level's name as the certificate prints it (the college's
    active ruleset), in ``locale``; the code when the ruleset no longer has it.
    One query for all the colleges."""
    active = active_rulesets_for({r.institution_id for r in recognitions})
    names = {
        iid: {lv.code: lv.name.get(locale) or lv.code for lv in a.ruleset.levels}
        for iid, a in active.items()
    }
    return {r.id: names[r.institution_id].get(r.level, r.level) for r in recognitions}


def issue_certificate(
    recognition: Recognition, *, actor: User, now: datetime, base_url: str
) -> Paper:
    """The certificate paper of a recognition, issued on first request.

    Its number is the recognition's certificate number (already unguessable), so
    the number printed on the certificate is the one the check page takes. A
    certificate already issued stays downloadable whatever happens to the
    recognition (its check page tells), printed again only when its level or
    validity changed; a new one needs a standing recognition.
    """
    found = refresh_certificate(recognition, now=now, base_url=base_url)
    if found is not None:
        return found
    if recognition.state not in STANDING:
        raise PaperRefused("not_active")  # no new certificate for a lapsed one
    teacher = recognition.teacher
    paper = Paper(
        number=recognition.certificate_number, kind=PaperKind.CERTIFICATE.value,
        teacher_id=teacher.id, institution_id=recognition.institution_id,
        recognition_id=recognition.id,
        claims=_certificate_claims(recognition, now), issued_at=now,
        issued_by_id=actor.id,
    )  # fmt: skip
    _store(paper, "certificate.html", base_url, now)
    record(actor.id, "paper.issue", "paper", paper.id, now,
           kind=paper.kind, number=paper.number)  # fmt: skip
    return paper


def withdraw_paper(paper: Paper, *, actor: User, now: datetime) -> None:
    """Withdraw an hours statement: its check page says so from now on."""
    if paper.withdrawn_at is None:
        paper.withdrawn_at = now
        record(actor.id, "paper.withdraw", "paper", paper.id, now, number=paper.number)


# --- finding papers --------------------------------------------------------------------


def visible_papers(actor: User) -> Any:
    """A select of the papers whose teacher the actor may read (tenancy's scope)."""
    return (
        select(Paper)
        .join(User, User.id == Paper.teacher_id)
        .where(people_clause(actor))
        .order_by(Paper.issued_at.desc(), Paper.id.desc())
    )


def visible_paper(actor: User, number: str) -> Paper | None:
    """The paper with this number if the actor may read it, else None (404)."""
    return db.session.scalar(visible_papers(actor).where(Paper.number == number))


def paper_by_number(number: str) -> Paper | None:
    """Any paper by its number (the public check page and the command)."""
    return db.session.scalar(select(Paper).where(Paper.number == number))


def own_papers(teacher: User) -> list[Paper]:
    """The teacher's own papers, newest first."""
    return list(
        db.session.scalars(
            select(Paper)
            .where(Paper.teacher_id == teacher.id)
            .order_by(Paper.issued_at.desc(), Paper.id.desc())
        )
    )


# --- state -------------------------------------------------------------------------------


class _Recognition(Protocol):
    @property
    def state(self) -> str: ...
    @property
    def valid_until(self) -> date | None: ...


RECOGNITION_STATES = {
    "active": PaperState.VALID,
    "review_due": PaperState.VALID,
    "expired": PaperState.EXPIRED,
    "suspended": PaperState.SUSPENDED,
    "revoked": PaperState.REVOKED,
}


def recognition_state(recognition: _Recognition | None, today: date) -> PaperState:
    """A certificate's state from its recognition's, expired past its last valid day."""
    if recognition is None:
        return PaperState.REVOKED  # the recognition is gone: nothing is certified
    state = RECOGNITION_STATES.get(str(recognition.state), PaperState.REVOKED)
    until = recognition.valid_until
    if state is PaperState.VALID and until is not None and until < today:
        return PaperState.EXPIRED
    return state


def statement_state(paper: Paper) -> PaperState:
    """A statement is valid unless withdrawn."""
    return PaperState.WITHDRAWN if paper.withdrawn_at else PaperState.VALID
