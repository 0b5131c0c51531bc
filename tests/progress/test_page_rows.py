"""Stored department-page rows: a new process serves the page without evaluating,
with the figures the engine computes, and never a stale row."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.progress import row_form, services
from pdtracker.progress.facts import local_today
from pdtracker.progress.standings import refresh_tick
from pdtracker.progress.standings_models import TeacherPageRow
from pdtracker.timeutil import local_today as local_day
from pdtracker.timeutil import utcnow
from tests.progress.test_cache import _practice, _training
from tests.progress.test_services import bulk_department


@pytest.fixture
def evaluated(monkeypatch) -> list[int]:
    """The teachers the department page's adapter evaluates."""
    seen: list[int] = []
    real = services.status_for

    def spy(teacher, *args, **kwargs):
        seen.append(None if teacher is None else teacher.id)
        return real(teacher, *args, **kwargs)

    monkeypatch.setattr(services, "status_for", spy)
    return seen


def _restart(app) -> None:
    """What a new process holds: none of the per-process caches."""
    for name in ("progress_cache", "progress_sentences"):
        app.extensions.pop(name, None)


def _body(client, path: str = "/progress/department") -> str:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The data part only: the frame carries a CSRF token that differs per request.
    start = html.index('<div class="row g-3 mb-3">')
    return html[start : html.index("</main>", start)] if "</main>" in html else html


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TeacherPageRow))


def _rows(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'<tr data-teacher="(\d+)" data-level="([^"]*)" data-qualified="(\w+)"', html
    )


def _engine_rows(app, department_id: int) -> tuple[tuple, list[tuple[str, str, str]]]:
    """The department's figures evaluated from scratch, as the page prints them."""
    with app.app_context():
        summary = services.evaluate_department(department_id)
        cards = (
            (summary.now.qualified, summary.now.total),
            *((p.qualified, p.total) for p in summary.forecasts.values()),
        )
        rows = [
            (str(s.teacher.id), s.report.level or "",
             "true" if s.dual_qualified else "false")
            for s in summary.teachers
        ]  # fmt: skip
    return cards, rows


def _cards(html: str) -> tuple:
    found = re.findall(r'id="(?:ratio-now|forecast-\d+)" data-qualified="(\d+)" '
                       r'data-total="(\d+)"', html)  # fmt: skip
    return tuple((int(q), int(t)) for q, t in found)


def test_a_new_process_serves_the_page_from_stored_rows(
    app, client, auth, world, make_activity, evaluated
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    _training(make_activity, world["teacher1"], today, "360")
    auth.login("head1")
    first = _body(client)
    assert len(evaluated) == 3
    assert _stored(app) == 3
    evaluated.clear()
    _restart(app)
    again = _body(client)
    assert evaluated == []  # every row read from storage
    assert again == first
    cards, rows = _engine_rows(app, world["ai"].id)
    assert _cards(again) == cards
    assert cards[0] == (1, 3)
    assert _rows(again) == rows


def test_a_teacher_changed_since_their_row_was_stored_is_evaluated_afresh(
    app, client, auth, world, make_activity, evaluated
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    auth.login("head1")
    assert _cards(_body(client))[0] == (0, 3)
    _restart(app)
    evaluated.clear()
    # Their record changes after the row was stored: it now qualifies them.
    _training(make_activity, world["teacher1"], today, "360")
    html = _body(client)
    assert evaluated == [world["teacher1"].id]
    cards, rows = _engine_rows(app, world["ai"].id)
    assert _cards(html) == cards
    assert cards[0] == (1, 3)
    assert _rows(html) == rows
    assert (str(world["teacher1"].id), "primary", "true") in rows
    # The new row was stored: the next new process evaluates nobody.
    _restart(app)
    evaluated.clear()
    assert _body(client) == html
    assert evaluated == []


def test_a_profile_change_or_a_tampered_row_is_not_used(
    app, client, auth, world, make_activity, evaluated
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    _training(make_activity, world["teacher1"], today, "360")
    auth.login("head1")
    first = _body(client)
    teacher1, teacher2 = world["teacher1"].id, world["teacher2"].id
    with app.app_context():
        db.session.execute(
            update(TeacherPageRow)
            .where(TeacherPageRow.teacher_id == teacher2)
            .values(payload=b'[false,null,null,[],[],0,null,null,true,"",""]')
        )
        profile = db.session.get(User, teacher1).teacher_profile
        profile.is_professional_course = False
        db.session.commit()
    _restart(app)
    evaluated.clear()
    html = _body(client)
    assert sorted(evaluated) == sorted([teacher1, teacher2])
    assert html != first
    cards, rows = _engine_rows(app, world["ai"].id)
    assert _cards(html) == cards
    assert cards[0] == (0, 2)
    assert _rows(html) == rows


def test_the_export_agrees_with_the_page_from_stored_rows(
    app, client, auth, world, make_activity
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    _training(make_activity, world["teacher2"], today, "120")
    auth.login("head1")
    fresh = client.get("/progress/department.csv").get_data()
    assert _stored(app) == 3
    _restart(app)
    html = _body(client)
    _restart(app)
    stored = client.get("/progress/department.csv").get_data()
    assert stored == fresh
    # The CSV's rows are the page's teachers, in the page's order.
    with app.app_context():
        names = {
            str(u.id): u.display_name
            for u in db.session.scalars(
                select(User).where(User.department_id.is_not(None))
            )
        }
    text = stored.decode("utf-8-sig")
    order = [names[t] for t, _l, _q in _rows(html)]
    assert [line.split(",")[1] for line in text.splitlines()[1:]] == order


def test_a_cold_page_costs_the_same_queries_for_3_or_60_teachers(
    app, client, auth, make_department, make_user, count_queries
) -> None:
    from pdtracker.auth.models import Role

    small = bulk_department(app, make_department, "S", 3, 20)
    large = bulk_department(app, make_department, "L", 60, 20)
    make_user("head-s", Role.HEAD, department=small)
    make_user("head-l", Role.HEAD, department=large)
    counts = {}
    for head, dept in (("head-s", small), ("head-l", large)):
        auth.login(head)
        _body(client)  # stores the rows
        _restart(app)
        with count_queries() as counted:
            _body(client)
        counts[dept.code] = counted.count
        auth.logout()
    assert counts["S"] == counts["L"]
    assert counts["L"] <= 12


def test_the_tick_brings_stored_rows_to_a_new_day_and_drops_leavers(
    app, client, auth, world, make_activity, evaluated
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    _training(make_activity, world["teacher2"], today, "120")
    auth.login("head1")
    _body(client)
    now = utcnow()
    later = now + timedelta(days=1)
    with app.app_context():
        assert refresh_tick(now)["page_rows_evaluated"] == 0  # all current
        evaluated.clear()
        counts = refresh_tick(later)
        assert counts["page_rows_evaluated"] == 3
        assert len(evaluated) == 3
        assert refresh_tick(later)["page_rows_evaluated"] == 0
        tomorrow = local_day(later)
        stored = db.session.execute(
            select(TeacherPageRow.teacher_id, TeacherPageRow.as_of,
                   TeacherPageRow.payload)
        ).all()  # fmt: skip
        assert {as_of for _t, as_of, _p in stored} == {tomorrow}
        # Each is what the page would evaluate tomorrow.
        summary = services.evaluate_department(
            world["ai"].id, as_of=tomorrow, now=later
        )
        fresh = {s.teacher.id: s for s in summary.teachers}
        ruleset = summary.ruleset.ruleset
        for teacher_id, _as_of, payload in stored:
            status = fresh[teacher_id]
            flags = services.chart_flags(status, ruleset, tomorrow)
            assert json.loads(payload) == row_form.encode(status, flags)
        user = db.session.get(User, world["teacher2"].id)
        user.is_active_account = False
        db.session.commit()
        assert refresh_tick(later)["page_rows_removed"] == 1
    assert _stored(app) == 2


def test_the_college_page_reads_the_same_stored_rows(
    app, client, auth, world, make_activity, evaluated
) -> None:
    with app.app_context():
        today = local_today()
    _practice(make_activity, world["teacher1"], today)
    auth.login("admin")
    path = f"/progress/college?college={world['ai'].institution_id}"

    def departments() -> list[tuple[str, str, str]]:
        html = client.get(path).get_data(as_text=True)
        return re.findall(
            r'<tr data-department="(\d+)" data-qualified="(\d+)" data-total="(\d+)"',
            html,
        )

    first = departments()
    assert len(evaluated) == 4  # three teachers in AI, one head in ME
    _restart(app)
    evaluated.clear()
    assert departments() == first
    assert evaluated == []
    _training(make_activity, world["teacher1"], today, "360")
    _restart(app)
    shown = departments()
    assert evaluated == [world["teacher1"].id]
    for dept in ("ai", "other"):
        cards, _rows = _engine_rows(app, world[dept].id)
        assert (str(world[dept].id), *map(str, cards[0])) in shown
    assert (str(world["ai"].id), "1", "3") in shown


def test_the_collector_pause_restores_what_it_found() -> None:
    import gc

    from pdtracker.progress.page_rows import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off
    assert gc.isenabled()
    with pytest.raises(ValueError, match="boom"), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()
