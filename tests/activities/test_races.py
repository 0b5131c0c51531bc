"""The verification lock holds when a head verifies while the teacher changes the record.

Each round the head's verify and one teacher change start at the same moment, over
HTTP, each in its own thread. Either may win, but a verified record must never change
afterwards: the teacher's change is refused (403) or it landed first and the head
verified the changed record.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from pdtracker.activities.models import Activity, EvidenceFile
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from tests.activities.conftest import PNG, file_field, lecture_data
from tests.concurrency import at_once, signed_in
from tests.conftest import requires_postgres

# The teacher's side of each race: the request and the audit action it leaves.
CHANGES = {
    "edit": (
        "/activities/{id}/edit",
        lambda: lecture_data(hours="999"),
        "activity.update",
    ),
    "evidence_add": (
        "/activities/{id}/evidence",
        lambda: {"evidence": file_field(PNG, "补充材料.png")},
        "activity.evidence_add",
    ),
    "evidence_delete": (
        "/activities/{id}/evidence/{evidence_id}/delete",
        dict,
        "activity.evidence_remove",
    ),
    "delete": ("/activities/{id}/delete", dict, "activity.delete"),
}


def _last_audit_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def _actions(activity_id: int, since: int) -> list[str]:
    """The activity's audit actions after entry ``since`` (SQLite reuses row ids)."""
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(
                AuditEntry.object_type == "activity",
                AuditEntry.object_id == activity_id,
                AuditEntry.id > since,
            )
            .order_by(AuditEntry.id)
        )
    )


def _files_on_disk(app: Flask) -> set[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _check_round(
    app: Flask,
    kind: str,
    activity_id: int,
    evidence: EvidenceFile,
    codes: list[int],
    since: int,
) -> None:
    """Either the change was refused and the record is as verified, or it came first."""
    verify_code, change_code = codes
    _, _, change_action = CHANGES[kind]
    with app.app_context():
        actions = _actions(activity_id, since)
        activity = db.session.get(Activity, activity_id)
        stored = set(db.session.scalars(select(EvidenceFile.stored_name)))
        # Every evidence row has its file and no file outlives its row.
        assert _files_on_disk(app) == stored
        if actions == ["activity.verify"]:  # the head was first: nothing changes after
            assert change_code == 403
            assert verify_code == 302
            assert activity.status == "verified"
            assert activity.hours == Decimal("3")
            assert [e.stored_name for e in activity.evidence] == [evidence.stored_name]
            return
        # The teacher was first; the head then verified what the teacher left.
        assert actions[0] == change_action, actions
        assert change_code == 302
        if kind == "delete":
            assert (actions, verify_code, activity) == ([change_action], 404, None)
            return
        assert actions == [change_action, "activity.verify"]
        assert verify_code == 302
        assert activity.status == "verified"
        names = [e.stored_name for e in activity.evidence]
        if kind == "edit":
            assert activity.hours == Decimal("999")
        elif kind == "evidence_add":
            assert len(names) == 2
            assert names[0] == evidence.stored_name
        elif kind == "evidence_delete":
            assert names == []


def _races(
    app, kind, rounds, make_department, make_user, make_activity, make_evidence
) -> None:
    dept = make_department()
    teacher = make_user("t-lock", Role.TEACHER, department=dept, locale="en")
    make_user("h-lock", Role.HEAD, Role.TEACHER, department=dept, locale="en")
    head_client, teacher_client = signed_in(app, "h-lock"), signed_in(app, "t-lock")
    url, make_data, _ = CHANGES[kind]
    for _ in range(rounds):
        activity = make_activity(teacher, hours=Decimal("3"))
        evidence = make_evidence(activity)
        change_url = url.format(id=activity.id, evidence_id=evidence.id)
        data, since = make_data(), _last_audit_id(app)
        codes = [
            getattr(r, "status_code", r)
            for r in at_once(
                lambda a=activity: head_client.post(f"/activities/{a.id}/verify"),
                lambda u=change_url, d=data: teacher_client.post(u, data=d),
            )
        ]
        assert [c for c in codes if not isinstance(c, int)] == []
        _check_round(app, kind, activity.id, evidence, codes, since)


def _run(*args) -> None:
    app = args[0]
    try:
        _races(*args)
    finally:
        # The threads opened several pooled connections; close them now, not at GC.
        with app.app_context():
            db.engine.dispose()


@requires_postgres
@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_verification_and_teacher_changes_serialise_on_postgresql(
    app, kind, make_department, make_user, make_activity, make_evidence
) -> None:
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    _run(app, kind, 15, make_department, make_user, make_activity, make_evidence)


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_verification_and_teacher_changes_serialise_on_the_configured_database(
    app, kind, make_department, make_user, make_activity, make_evidence
) -> None:
    """The same races on SQLite (the default database), where the write lock serialises."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # covered above
    _run(app, kind, 8, make_department, make_user, make_activity, make_evidence)


def test_a_change_re_checks_the_status_under_the_lock(
    app, make_department, make_user, make_activity, make_evidence
) -> None:
    """A teacher's page loaded the activity unverified; the head verified it since.

    Deterministic companion of the races above: every teacher change re-reads the
    row once it holds the lock and refuses, whatever the stale instance says.
    """
    from pdtracker.activities import services as svc
    from pdtracker.activities.evidence import StoredUpload
    from pdtracker.auth.models import User
    from pdtracker.timeutil import utcnow

    dept = make_department()
    teacher = make_user("t-stale", Role.TEACHER, department=dept)
    head = make_user("h-stale", Role.HEAD, Role.TEACHER, department=dept)
    activity = make_activity(teacher)
    evidence = make_evidence(activity)
    upload = StoredUpload("0" * 32 + ".pdf", "x.pdf", "application/pdf", 1, "0" * 64)
    changes = [
        lambda a, user: svc.update_activity(
            a, svc.ActivityFields("expert_lecture", "改", a.starts_on, hours=9),
            actor=user, now=utcnow(),
        ),
        lambda a, user: svc.delete_activity(a, actor=user, now=utcnow()),
        lambda a, user: svc.add_evidence(a, upload, actor=user, now=utcnow()),
        lambda a, user: svc.remove_evidence(a.evidence[0], actor=user, now=utcnow()),
    ]  # fmt: skip
    with app.app_context():  # the teacher's request
        stale = db.session.get(Activity, activity.id)
        user = db.session.get(User, teacher.id)
        assert [e.id for e in stale.evidence] == [evidence.id]
        with app.app_context():  # the head's request, committed in between
            reviewed = db.session.get(Activity, activity.id)
            svc.verify_activity(
                reviewed, actor=db.session.get(User, head.id), now=utcnow()
            )
            db.session.commit()
        assert stale.status == "completed"  # what the teacher's page saw
        for change in changes:
            with pytest.raises(svc.ActivityLocked):
                change(stale, user)
            db.session.rollback()
    with app.app_context():
        saved = db.session.get(Activity, activity.id)
        assert (saved.status, saved.hours) == ("verified", Decimal("3"))
        assert [e.id for e in saved.evidence] == [evidence.id]
