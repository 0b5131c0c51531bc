"""Dashboard caches: reused while nothing changes, never stale, bounded queries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.org.models import Department, TeacherProfile
from pdtracker.progress import cache, forecast, records, row_form, services
from pdtracker.progress.facts import local_today
from tests.progress.test_rulesets_admin import COLLEGE
from tests.progress.test_services import (
    add_event,
    add_placement,
    bulk_department,
    register,
)


@pytest.fixture
def engine_runs(monkeypatch):
    """Count calls of the engine as the forecast module calls it."""
    calls = []
    real = forecast.evaluate

    def spy(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(forecast, "evaluate", spy)
    return calls


def _today(app) -> date:
    with app.app_context():
        return local_today()


def _card(html: str, card: str) -> tuple[int, int]:
    found = re.search(rf'id="{card}" data-qualified="(\d+)" data-total="(\d+)"', html)
    assert found, card
    return int(found[1]), int(found[2])


def _department(client) -> str:
    response = client.get("/progress/department")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _practice(make_activity, teacher, today: date, days: int = 180) -> Activity:
    end = today - timedelta(days=30)
    return make_activity(
        teacher, kind_code="enterprise_placement", starts_on=end - timedelta(days=days - 1),
        ends_on=end, days=days, status="verified",
    )  # fmt: skip


def _training(make_activity, teacher, today: date, hours: str) -> Activity:
    return make_activity(
        teacher, kind_code="training", starts_on=today - timedelta(days=60),
        ends_on=today - timedelta(days=60), hours=Decimal(hours), status="verified",
    )  # fmt: skip


def test_repeated_request_does_not_run_the_engine(
    app, client, auth, world, make_activity, engine_runs
) -> None:
    today = _today(app)
    _practice(make_activity, world["teacher1"], today)
    auth.login("head1")
    first = _without_csrf(_department(client))
    assert engine_runs  # computed once
    engine_runs.clear()
    assert _without_csrf(_department(client)) == first
    assert engine_runs == []


def test_activity_create_edit_delete_show_at_once(
    app, client, auth, world, make_activity
) -> None:
    today = _today(app)
    t1 = world["teacher1"]
    _practice(make_activity, t1, today)
    auth.login("head1")
    assert _card(_department(client), "ratio-now") == (0, 3)
    training = _training(make_activity, t1, today, "300")
    assert _card(_department(client), "ratio-now") == (0, 3)
    with app.app_context():
        db.session.get(Activity, training.id).hours = Decimal("360")
        db.session.commit()
    assert _card(_department(client), "ratio-now") == (1, 3)
    with app.app_context():
        db.session.delete(db.session.get(Activity, training.id))
        db.session.commit()
    assert _card(_department(client), "ratio-now") == (0, 3)


def test_placement_and_registration_change_the_forecast(
    app, client, auth, world, make_activity
) -> None:
    today = _today(app)
    t1, t2 = world["teacher1"], world["teacher2"]
    _training(make_activity, t1, today, "360")
    _practice(make_activity, t2, today)
    _training(make_activity, t2, today, "357")
    auth.login("head1")
    assert _card(_department(client), "forecast-12") == (0, 3)
    start = today + timedelta(days=10)
    add_placement(app, t1, start, start + timedelta(days=179), "approved")
    assert _card(_department(client), "forecast-12") == (1, 3)
    event = add_event(
        app, datetime.combine(today + timedelta(days=20), datetime.min.time(), UTC),
        hours="3", kind_code="seminar",
    )  # fmt: skip
    assert _card(_department(client), "forecast-6") == (0, 3)
    register(app, t2, event)
    assert _card(_department(client), "forecast-6") == (1, 3)


def test_professional_course_flag_change_shows(app, client, auth, world) -> None:
    auth.login("head1")
    assert _card(_department(client), "ratio-now") == (0, 3)
    with app.app_context():
        db.session.get(
            TeacherProfile, world["teacher2"].id
        ).is_professional_course = False
        db.session.commit()
    html = _department(client)
    assert _card(html, "ratio-now") == (0, 2)


def test_teacher_name_and_department_name_show(app, client, auth, world) -> None:
    auth.login("head1")
    _department(client)
    with app.app_context():
        db.session.get(User, world["teacher2"].id).display_name = "王老师"
        db.session.get(Department, world["ai"].id).name = "智能系"
        db.session.commit()
    html = _department(client)
    assert "王老师" in html
    assert "智能系" in html


def test_publishing_a_ruleset_changes_the_page(
    app, client, auth, world, make_activity
) -> None:
    today = _today(app)
    t1 = world["teacher1"]
    _practice(make_activity, t1, today, days=120)
    _training(make_activity, t1, today, "360")
    auth.login("head1")
    assert _card(_department(client), "ratio-now") == (0, 3)
    with app.app_context():
        admin = db.session.get(User, world["admin"].id)
        now = datetime.now(UTC)
        rec = records.create_draft(COLLEGE, "toml", actor=admin, now=now)
        records.publish(rec, actor=admin, now=now, reason="过渡期")
        db.session.commit()
    html = _department(client)
    assert _card(html, "ratio-now") == (1, 3)
    assert "demo-college" in html or "示范学院规则" in html


def _without_csrf(html: str) -> str:
    """The page minus its CSRF tokens, which carry a timestamp."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def test_teacher_dashboard_is_cached_and_never_stale(
    app, client, auth, world, make_activity, engine_runs
) -> None:
    today = _today(app)
    t1 = world["teacher1"]
    _training(make_activity, t1, today, "100")
    auth.login("teacher1")
    first = _without_csrf(client.get("/progress/").get_data(as_text=True))
    engine_runs.clear()
    assert _without_csrf(client.get("/progress/").get_data(as_text=True)) == first
    assert engine_runs == []
    _training(make_activity, t1, today, "50")
    html = client.get("/progress/").get_data(as_text=True)
    assert engine_runs
    assert 'data-requirement="training_hours" data-credited="150"' in html
    # Another teacher's change does not touch teacher1's entry.
    engine_runs.clear()
    _training(make_activity, world["teacher2"], today, "50")
    client.get("/progress/")
    assert engine_runs == []


def test_registration_leaves_the_cache_when_its_event_ends(
    app, world, monkeypatch
) -> None:
    t1 = world["teacher1"]
    start = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    register(app, t1, add_event(app, start))
    seen: list[int] = []
    real = services.status_for

    def spy(teacher, *args, **kwargs):
        seen.append(teacher.id)
        return real(teacher, *args, **kwargs)

    monkeypatch.setattr(services, "status_for", spy)
    with app.app_context():
        department = db.session.get(Department, world["ai"].id)
        cache.department_summary(department, now=start)
        held = {k[0]: e for k, (_r, e) in cache.caches().rows._data.items()}  # noqa: SLF001
        assert held[t1.id] == start + timedelta(hours=3)  # the event's end
        seen.clear()
        cache.department_summary(department, now=start + timedelta(hours=2))
        assert seen == []  # the seat still counts as planned
        cache.department_summary(department, now=start + timedelta(hours=4))
        assert seen == [t1.id]  # it no longer does: evaluated again


def test_cached_page_query_count_is_bounded_and_does_not_grow(
    app, client, auth, make_department, make_user, count_queries, engine_runs
) -> None:
    small = bulk_department(app, make_department, "S", 30, 100)
    large = bulk_department(app, make_department, "L", 300, 100)
    make_user("headS", "head", department=small)
    make_user("headL", "head", department=large)
    counts = {}
    for name in ("headS", "headL"):
        auth.login(name)
        _department(client)  # warm
        engine_runs.clear()
        with count_queries() as counter:
            _department(client)
        assert engine_runs == []
        counts[name] = counter.count
        auth.logout()
    assert counts["headS"] == counts["headL"]
    assert counts["headL"] <= 10


def test_lru_evicts_the_least_recently_used_and_expires() -> None:
    lru = cache.LRUCache(2)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    lru.put("a", 1)
    lru.put("b", 2, expires=now)
    assert lru.get("a", now) == 1  # a is now the most recent
    lru.put("c", 3)
    assert lru.get("b", now) is None  # evicted
    assert (lru.get("a", now), lru.get("c", now)) == (1, 3)
    lru.put("d", 4, expires=now)
    assert lru.get("d", now) == 4
    assert lru.get("d", now + timedelta(seconds=1)) is None
    assert len(lru) == 1


def test_cached_statuses_hold_no_orm_objects(app, world) -> None:
    with app.app_context():
        department = db.session.get(Department, world["ai"].id)
        summary = cache.department_summary(department)
        stored = next(iter(cache.caches().departments._data.values()))[0]
        names = db.session.scalars(
            select(User.username).where(User.department_id == department.id)
        ).all()
    assert stored.department is None
    assert {s.teacher.username for s in summary.teachers} <= set(names)
    assert all(isinstance(s.teacher, cache.TeacherSnapshot) for s in stored.teachers)
    # Rows: the values the page shows, no facts or reports (row_form.RowStatus).
    assert all(isinstance(s, row_form.RowStatus) for s in stored.teachers)


def test_cached_department_page_follows_the_language(client, auth, world) -> None:
    auth.login("head1")
    assert "导出 CSV" in client.get("/progress/department").get_data(as_text=True)
    first = client.get("/progress/department").get_data(as_text=True)
    client.post("/language", data={"locale": "en"})
    english = client.get("/progress/department").get_data(as_text=True)
    assert "Teachers, furthest from the next level first" in english
    assert "Teachers, furthest from the next level first" not in first


@pytest.fixture
def rendered(app):
    """Names of the templates rendered, in order (Flask's template_rendered signal)."""
    from flask import template_rendered

    names: list[str] = []

    def note(sender, template, context, **extra) -> None:
        names.append(template.name)

    template_rendered.connect(note, app)
    yield names
    template_rendered.disconnect(note, app)


def test_warm_dashboard_renders_only_its_frame(
    app, client, auth, world, make_activity, rendered
) -> None:
    _training(make_activity, world["teacher1"], _today(app), "100")
    auth.login("teacher1")
    first = _without_csrf(client.get("/progress/").get_data(as_text=True))
    assert "progress/_dashboard_body.html" in rendered
    rendered.clear()
    again = _without_csrf(client.get("/progress/").get_data(as_text=True))
    assert again == first
    assert rendered == ["progress/dashboard.html"]
    client.post("/language", data={"locale": "en"})
    english = client.get("/progress/").get_data(as_text=True)
    assert "Requirements of the next level" in english
    assert "下一级别的要求" not in english


def test_heads_view_of_a_teacher_has_its_own_fragment(
    app, client, auth, world, make_activity, rendered
) -> None:
    t1 = world["teacher1"]
    _training(make_activity, t1, _today(app), "100")
    auth.login("teacher1")
    client.get("/progress/")
    auth.logout()
    auth.login("head1")
    rendered.clear()
    theirs = client.get(f"/progress/teachers/{t1.id}").get_data(as_text=True)
    # Same cached status, but "you hold…" sentences differ: rendered for the head.
    assert "progress/_dashboard_body.html" in rendered
    assert 'data-credited="100"' in theirs


def test_one_teachers_change_reevaluates_only_that_teacher(
    app, client, auth, world, make_activity, monkeypatch
) -> None:
    """The department page keeps each teacher's row; a write touches one row."""
    evaluated: list[int] = []
    real = services.status_for

    def spy(teacher, *args, **kwargs):
        evaluated.append(teacher.id)
        return real(teacher, *args, **kwargs)

    monkeypatch.setattr(services, "status_for", spy)
    today = _today(app)
    t1 = world["teacher1"]
    _practice(make_activity, t1, today)
    auth.login("head1")
    assert _card(_department(client), "ratio-now") == (0, 3)
    assert sorted(evaluated) == sorted(
        [world["teacher1"].id, world["teacher2"].id, world["head1"].id]
    )
    evaluated.clear()
    _training(make_activity, t1, today, "360")  # teacher1 now qualifies
    assert _card(_department(client), "ratio-now") == (1, 3)
    assert evaluated == [t1.id]
