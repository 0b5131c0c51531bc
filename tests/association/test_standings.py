"""Stored standings: the incremental refresh agrees with a full evaluation.

A standing is re-evaluated only when it may be wrong (new records, a profile or
ruleset change, or its ``next_change_on`` reached). These tests drive generated
histories through time and check, after every incremental run, that each stored
row says what the engine says today — so skipping a teacher never leaves a wrong
status — including a teacher whose window lapses on the night with no change to
their records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.org.models import TeacherProfile
from pdtracker.org.queries import active_teachers
from pdtracker.progress import standings
from pdtracker.progress.engine import evaluate
from pdtracker.progress.facts import by_ids, gather
from pdtracker.progress.forecast import as_done, qualified_on
from pdtracker.progress.measures import add_months
from pdtracker.progress.models import StoredRuleset
from pdtracker.progress.standings_models import TeacherStanding
from pdtracker.reference import ensure_activity_kinds
from pdtracker.timeutil import local_today
from tests import factories
from tests.association.histories import activity, night, qualifying

START = date(2026, 12, 7)
FIELDS = ("assessed", "level", "qualified_now", "qualified_in_12")


def stored() -> dict[int, tuple]:
    rows = db.session.scalars(select(TeacherStanding))
    return {r.teacher_id: tuple(getattr(r, f) for f in FIELDS) for r in rows}


def fresh(now: datetime) -> dict[int, tuple]:
    """Every active teacher's answers from the engine itself (not from standings)."""
    today = local_today(now)
    teachers = active_teachers()
    rulesets = standings.rulesets_for(t.institution_id for t in teachers)
    gathered = gather(by_ids(t.id for t in teachers), now)
    out = {}
    for t in teachers:
        ruleset = rulesets[t.institution_id].ruleset
        facts = gathered[t.id].facts if t.id in gathered else []
        professional = t.teacher_profile.is_professional_course
        report = evaluate(ruleset, facts, today, professional_course=professional)
        ahead = add_months(today, 12)
        later = qualified_on(
            ruleset, as_done(facts), [ahead], professional_course=professional
        )[0]
        out[t.id] = (report.assessed, report.level, report.level is not None, later)
    return out


def _clear(app) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    with app.app_context():
        ensure_activity_kinds()
        db.session.commit()


def _teachers(app) -> list[int]:
    north = factories.make_department(app, "AI", "北城人工智能系", institution="NORTH")
    demo = factories.make_department(app, "AI", "人工智能技术应用系")
    ids = []
    for i, dept in enumerate((demo, demo, north)):
        user = factories.make_user(app, f"gen{i}", Role.TEACHER, department=dept)
        ids.append(user.id)
    return ids


KINDS = ("enterprise_placement", "training", "expert_lecture", "certificate")
STATUSES = ("verified", "verified", "completed", "planned")
records = st.tuples(
    st.integers(0, 2),  # teacher index
    st.sampled_from(KINDS),
    st.integers(-6 * 365, 400),  # start, days from START
    st.integers(1, 200),  # days (placement) or hours (training)
    st.sampled_from(STATUSES),
)
steps = st.tuples(
    st.integers(0, 500),  # days to the next night
    st.one_of(
        st.none(),
        st.tuples(st.just("add"), records),
        st.tuples(st.just("delete"), st.integers(0, 50)),
        st.tuples(st.just("verify"), st.integers(0, 50)),
        st.tuples(st.just("profile"), st.integers(0, 2)),
    ),
)


def _apply(change, ids: list[int]) -> None:
    what, arg = change
    if what == "add":
        i, kind, offset, size, status = arg
        db.session.add(activity(ids[i], kind, START + timedelta(offset), size, status))
    elif what == "profile":
        profile = db.session.get(TeacherProfile, ids[arg])
        profile.is_professional_course = not profile.is_professional_course
    else:
        rows = list(db.session.scalars(select(Activity).order_by(Activity.id)))
        if not rows:
            return
        row = rows[arg % len(rows)]
        if what == "delete":
            db.session.delete(row)
        else:
            row.status, row.verified_at = "verified", datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(records, max_size=12),
    qualified=st.lists(st.integers(-5 * 365, -4 * 365), max_size=2),
    timeline=st.lists(steps, min_size=1, max_size=6),
)
def test_incremental_refresh_agrees_with_a_full_run(app, history, qualified, timeline):
    _clear(app)
    ids = _teachers(app)
    with app.app_context():
        for i, offset in enumerate(qualified):
            db.session.add_all(qualifying(ids[i], START + timedelta(offset)))
        for i, kind, offset, size, status in history:
            db.session.add(
                activity(ids[i], kind, START + timedelta(offset), size, status)
            )
        db.session.commit()
        day = START
        standings.refresh(night(day), full=True)
        db.session.commit()
        assert stored() == fresh(night(day))
        for advance, change in timeline:
            day += timedelta(days=advance)
            if change is not None:
                _apply(change, ids)
            standings.refresh(night(day))
            db.session.commit()
            assert stored() == fresh(night(day)), (day, change)


def test_a_window_lapsing_on_the_night_is_seen_without_any_change(app):
    """Verified practice from five years back lapses on a night nobody touches."""
    ids = _teachers(app)
    start = START - timedelta(days=5 * 365 - 30)
    with app.app_context():
        db.session.add_all(qualifying(ids[0], start))
        db.session.commit()
        standings.refresh(night(START), full=True)
        db.session.commit()
        row = db.session.get(TeacherStanding, ids[0])
        assert row.qualified_now
        lapse = row.next_change_on
        assert START < lapse <= START + timedelta(days=31)

        # The night before: nothing to do for anyone.
        quiet = standings.refresh(night(lapse - timedelta(days=1)))
        db.session.commit()
        assert quiet["standings_evaluated"] == 0
        assert db.session.get(TeacherStanding, ids[0]).qualified_now

        # The lapse night: only this teacher is evaluated, and no longer qualifies.
        counts = standings.refresh(night(lapse))
        db.session.commit()
        assert counts["standings_evaluated"] == 1
        db.session.expire_all()
        assert not db.session.get(TeacherStanding, ids[0]).qualified_now
        assert stored() == fresh(night(lapse))


def test_a_change_to_the_records_is_evaluated_on_the_next_run_only_for_that_teacher(
    app,
):
    ids = _teachers(app)
    with app.app_context():
        standings.refresh(night(START), full=True)
        db.session.commit()
        assert not db.session.get(TeacherStanding, ids[1]).qualified_now
        db.session.add_all(qualifying(ids[1], START - timedelta(days=400)))
        db.session.commit()
        counts = standings.refresh(night(START))
        db.session.commit()
        assert counts == {
            "standings_teachers": 3,
            "standings_evaluated": 1,
            "standings_removed": 0,
        }
        db.session.expire_all()
        assert db.session.get(TeacherStanding, ids[1]).qualified_now


def test_a_teacher_who_leaves_loses_the_row_and_a_second_run_does_nothing(app):
    ids = _teachers(app)
    with app.app_context():
        standings.refresh(night(START), full=True)
        db.session.commit()
        user = db.session.get(User, ids[2])
        user.is_active_account = False
        db.session.commit()
        counts = standings.refresh(night(START))
        db.session.commit()
        assert counts["standings_removed"] == 1
        assert set(stored()) == set(ids[:2])
        assert standings.refresh(night(START))["standings_evaluated"] == 0


def test_the_scheduler_tick_is_registered_and_idempotent(app):
    from pdtracker.scheduler import SCHEDULE

    tick = next(t for t in SCHEDULE if t.id == "standings")
    ids = _teachers(app)
    with app.app_context():
        first = tick.job(night(START))
        second = tick.job(night(START))
        assert first["standings_evaluated"] == len(ids)
        assert second["standings_evaluated"] == 0
        assert set(stored()) == set(ids)


# A college layer that is easy to tell apart: 400 training hours, not 360.
STRICTER = """\
name = "college-stricter"
extends = "cn-vocational-default"

[[levels]]
code = "primary"

[[levels.requirements]]
code = "training_hours"
threshold = 400
"""


def test_each_college_is_evaluated_under_its_own_layer_and_a_new_one_is_seen(app):
    """DEMO publishes a stricter layer: only DEMO's teachers are evaluated again,
    under it; NORTH's keep the default and are not touched."""
    ids = _teachers(app)  # gen0, gen1 at DEMO; gen2 at NORTH
    with app.app_context():
        for teacher_id in (ids[0], ids[2]):
            db.session.add_all(qualifying(teacher_id, START - timedelta(days=400)))
        db.session.commit()
        standings.refresh(night(START), full=True)
        db.session.commit()
        assert db.session.get(TeacherStanding, ids[0]).qualified_now
        demo = db.session.get(User, ids[0]).institution_id
        db.session.add(
            StoredRuleset(
                name="college-stricter", version=1, document=STRICTER, format="toml",
                institution_id=demo, status="published", is_active=True,
                published_at=night(START),
            )
        )  # fmt: skip
        db.session.commit()
        counts = standings.refresh(night(START))
        db.session.commit()
        assert counts["standings_evaluated"] == 2  # DEMO's two teachers only
        db.session.expire_all()
        row = db.session.get(TeacherStanding, ids[0])
        assert (row.ruleset_name, row.qualified_now) == ("college-stricter", False)
        north = db.session.get(TeacherStanding, ids[2])
        assert (north.ruleset_name, north.qualified_now) == (
            "cn-vocational-default", True,
        )  # fmt: skip
        assert stored() == fresh(night(START))


def test_the_command_refreshes_now_and_a_full_run_evaluates_everyone(app, runner):
    ids = _teachers(app)
    first = runner.invoke(args=["standings", "refresh"])
    assert first.exit_code == 0, first.output
    assert f"{len(ids)} of {len(ids)}" in first.output
    quiet = runner.invoke(args=["standings", "refresh"])
    assert f"0 of {len(ids)}" in quiet.output
    full = runner.invoke(args=["standings", "refresh", "--full"])
    assert f"{len(ids)} of {len(ids)}" in full.output
    with app.app_context():
        assert set(stored()) == set(ids)


def test_a_full_run_on_two_processes_stores_what_one_process_stores(app):
    ids = _teachers(app)
    with app.app_context():
        db.session.add_all(qualifying(ids[0], START - timedelta(days=400)))
        db.session.add_all(qualifying(ids[2], START - timedelta(days=100), "planned"))
        db.session.commit()
        standings.refresh(night(START), full=True)
        db.session.commit()
        one = stored()
        db.session.execute(delete(TeacherStanding))
        db.session.commit()
        counts = standings.refresh(night(START), full=True, batch=1, workers=2)
        db.session.commit()
        assert counts["standings_evaluated"] == len(ids)
        assert stored() == one == fresh(night(START))
        assert one[ids[0]][2]
        assert not one[ids[2]][2]
        assert one[ids[2]][3]
