"""The association dashboard: who may see it, what it shows, what it costs.

Its figures come from stored standings and aggregate queries; these tests check
them against the engine run afresh for each college, count its queries at 3 and
at 100 colleges, and check that no teacher's name or evidence reaches the page
or its exports.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.caching import per_app
from pdtracker.events.models import Event, Registration
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.org.queries import active_teachers
from pdtracker.progress import standings
from pdtracker.progress.engine import evaluate
from pdtracker.progress.facts import by_ids, gather
from pdtracker.progress.forecast import as_done, qualified_on
from pdtracker.progress.measures import add_months
from pdtracker.timeutil import local_today, utcnow
from tests import factories
from tests.association.histories import activity, qualifying
from tests.factories import make_recognition

ROWS = re.compile(r'<tr data-college="([^"]+)"([^>]*)>')


def college_rows(html: str) -> dict[str, dict[str, str]]:
    """The member colleges table's data attributes, by college code."""
    out = {}
    for code, attrs in ROWS.findall(html):
        out[code] = dict(re.findall(r'data-([a-z0-9-]+)="([^"]*)"', attrs))
    return out


@pytest.fixture
def association(app):
    """Three colleges; teachers who qualify now, later, never, or are not assessed."""
    with app.app_context():
        today = local_today(utcnow())
    depts = {
        code: factories.make_department(app, "AI", f"{code} AI", institution=code)
        for code in ("DEMO", "NORTH", "EAST")
    }
    second = factories.make_department(app, "ME", "DEMO ME", institution="DEMO")
    people = {}
    for name, dept, professional in (
        ("d_now", depts["DEMO"], True), ("d_later", depts["DEMO"], True),
        ("d_none", second, True), ("d_other", second, False),
        ("n_now", depts["NORTH"], True), ("n_none", depts["NORTH"], True),
        ("e_none", depts["EAST"], True),
    ):  # fmt: skip
        people[name] = factories.make_user(
            app, name, Role.TEACHER, department=dept, professional_course=professional,
            display_name=f"教师{name}",
        )  # fmt: skip
    people["staff1"] = factories.make_user(app, "staff1", Role.STAFF)
    people["admin"] = factories.make_user(app, "admin", Role.ADMIN)
    with app.app_context():
        db.session.add_all(qualifying(people["d_now"].id, today - timedelta(days=500)))
        db.session.add_all(qualifying(people["n_now"].id, today - timedelta(days=300)))
        db.session.add_all(
            qualifying(people["d_other"].id, today - timedelta(days=300))
        )
        # Planned: qualifies in 12 months if everything planned happens.
        db.session.add_all(
            qualifying(people["d_later"].id, today + timedelta(days=-100), "planned")
        )
        db.session.add(
            activity(people["d_none"].id, "training", today - timedelta(days=30), 40,
                     "verified")
        )  # fmt: skip
        db.session.commit()
        standings.refresh(utcnow(), full=True)
        db.session.commit()
    return people


def engine_figures(app) -> dict[str, tuple[int, int, int, int]]:
    """Per college code: teachers, professional, qualified now, in 12 months."""
    with app.app_context():
        now = utcnow()
        today = local_today(now)
        teachers = active_teachers()
        rulesets = standings.rulesets_for(t.institution_id for t in teachers)
        facts = gather(by_ids(t.id for t in teachers), now)
        codes = dict(db.session.execute(select(Institution.id, Institution.code)).all())
        out = {code: [0, 0, 0, 0] for code in codes.values()}
        for t in teachers:
            ruleset = rulesets[t.institution_id].ruleset
            mine = facts[t.id].facts if t.id in facts else []
            professional = t.teacher_profile.is_professional_course
            row = out[codes[t.institution_id]]
            row[0] += 1
            if not professional:
                continue
            row[1] += 1
            report = evaluate(ruleset, mine, today, professional_course=True)
            row[2] += report.level is not None
            ahead = add_months(today, 12)
            row[3] += qualified_on(ruleset, as_done(mine), [ahead])[0]
        return {code: tuple(v) for code, v in out.items()}


def test_figures_equal_the_engine_for_each_college(app, client, auth, association):
    auth.login("staff1")
    page = client.get("/association/")
    assert page.status_code == 200
    shown = college_rows(page.get_data(as_text=True))
    expected = engine_figures(app)
    assert set(shown) == set(expected) == {"DEMO", "NORTH", "EAST"}
    for code, (teachers, professional, now, later) in expected.items():
        row = shown[code]
        got = (int(row["teachers"]), int(row["professional"]),
               int(row["qualified"]), int(row["qualified-12"]))  # fmt: skip
        assert got == (teachers, professional, now, later), code
    # The history is not trivial: someone qualifies now, someone only later.
    assert expected["DEMO"] == (4, 3, 1, 2)
    assert expected["NORTH"] == (2, 2, 1, 1)


def test_events_placements_and_enterprises_are_counted_by_college(
    app, client, auth, association
):
    now = utcnow()
    d_now, d_later, n_now = (association[k] for k in ("d_now", "d_later", "n_now"))
    past = now - timedelta(days=40)
    with app.app_context():
        held = Event(
            kind_code="seminar", title="研讨", starts_at=past,
            ends_at=past + timedelta(hours=2), uid="held@test", status="published",
            capacity=5, series_ends_at=past + timedelta(hours=2),
        )  # fmt: skip
        full = Event(
            kind_code="expert_lecture", title="讲座", starts_at=now + timedelta(days=20),
            ends_at=now + timedelta(days=20, hours=2), uid="full@test",
            status="published", capacity=1,
            series_ends_at=now + timedelta(days=20, hours=2),
        )  # fmt: skip
        db.session.add_all([held, full])
        db.session.flush()
        queued = now - timedelta(days=60)
        for event, teacher, status in (
            (held, d_now, "attended"), (held, d_later, "registered"),
            (held, n_now, "cancelled"), (full, d_now, "registered"),
            (full, n_now, "waitlisted"),
        ):  # fmt: skip
            db.session.add(
                Registration(event_id=event.id, teacher_id=teacher.id, status=status,
                             queued_at=queued)
            )  # fmt: skip
        db.session.commit()
    host = factories.make_enterprise(
        app, '=HYPERLINK("http://x","点此")', sector="智能制造"
    )
    today = (now + timedelta(hours=8)).date()  # Shanghai
    factories.make_placement(
        app, d_now, host, starts_on=today - timedelta(days=90),
        ends_on=today - timedelta(days=60), status="completed", working_days=22,
        report_stored_name="r.pdf", report_original_name="r.pdf",
        report_content_type="application/pdf",
    )  # fmt: skip
    factories.make_placement(
        app, n_now, host, starts_on=today + timedelta(days=30),
        ends_on=today + timedelta(days=40), status="approved", working_days=8,
    )  # fmt: skip
    auth.login("admin")
    html = client.get("/association/").get_data(as_text=True)
    rows = college_rows(html)
    assert (rows["DEMO"]["registrations"], rows["DEMO"]["attended"]) == ("2", "1")
    assert (rows["NORTH"]["registrations"], rows["NORTH"]["attended"]) == ("0", "0")
    # Both colleges credit calendar days (the default rules): 31 and 11 days, not
    # the 22 and 8 working days.
    assert rows["DEMO"]["days-completed"] == "31"
    assert rows["NORTH"]["days-planned"] == "11"
    assert f'data-enterprise="{host.id}" data-placements="2" data-days="42"' in html
    # The lecture next month: one seat, two people want it.
    month = (now + timedelta(days=20)).astimezone(factories.SHANGHAI).strftime("%Y-%m")
    assert (
        f'data-group="expert_lecture" data-month="{month}" data-seats="1" '
        'data-demand="2" class="table-danger" data-outruns="1"'
    ) in html
    # The export keeps the enterprise's name as text, never a formula.
    book = load_workbook(io.BytesIO(client.get("/association/enterprises.xlsx").data))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert '\'=HYPERLINK("http://x","点此")' in cells
    assert {"DEMO", "NORTH"} <= set(cells)


@pytest.mark.parametrize("name", ["colleges", "enterprises", "attendance", "demand"])
def test_every_table_exports_as_xlsx_without_personal_data(
    app, client, auth, association, name
):
    auth.login("staff1")
    response = client.get(f"/association/{name}.xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    text = " ".join(
        str(c.value) for row in book.active.iter_rows() for c in row if c.value
    )
    assert book.active.max_row >= 1
    for person in ("d_now", "n_now", "教师d_now"):
        assert person not in text


def test_unknown_export_is_not_found(client, auth, association):
    auth.login("staff1")
    assert client.get("/association/people.xlsx").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("teacher", 403), ("head", 403), ("college_admin", 403), ("staff", 200),
     ("admin", 200)],
)  # fmt: skip
def test_only_staff_and_the_admin_see_it(app, client, auth, role, status):
    dept = factories.make_department(app)
    inst = factories.make_institution(app)
    kwargs = (
        {"institution_id": inst.id}
        if role == "college_admin"
        else {"department": dept if role in ("teacher", "head") else None}
    )
    factories.make_user(app, "someone", Role(role), **kwargs)
    auth.login("someone")
    for path in ("/association/", "/association/colleges.xlsx"):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["Cache-Control"] == "private, no-store"


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get("/association/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_names_no_teacher(client, auth, association):
    auth.login("staff1")
    html = client.get("/association/").get_data(as_text=True)
    for name in ("d_now", "d_later", "n_now"):
        assert name not in html  # neither the username nor the name (教师<name>)
    assert 'href="/association/"' in html  # the navigation item


def _add_colleges(app, first: int, count: int) -> None:
    """``count`` more colleges, each with a department and a teacher (bulk rows)."""
    with app.app_context():
        now = datetime.now(UTC)
        for i in range(first, first + count):
            inst = Institution(code=f"C{i:03d}", name=f"第{i}职业技术学院")
            db.session.add(inst)
            db.session.flush()
            dept = Department(institution_id=inst.id, code="AI", name="人工智能系")
            db.session.add(dept)
            db.session.flush()
            user_id = db.session.execute(
                insert(User).values(
                    username=f"c{i}", display_name=f"c{i}", password_hash="x",
                    department_id=dept.id, institution_id=inst.id, created_at=now,
                    updated_at=now,
                ).returning(User.id)
            ).scalar_one()  # fmt: skip
            db.session.execute(insert(UserRole).values(user_id=user_id, role="teacher"))
            db.session.execute(
                insert(TeacherProfile).values(
                    user_id=user_id, staff_number=f"C-{i}", institution_id=inst.id
                )
            )
        db.session.commit()
        standings.refresh(utcnow())
        db.session.commit()


def _counted(app, client, count_queries) -> tuple[int, int, str]:
    """Queries of the page computed afresh (cache emptied), then served warm."""
    per_app(app, "association", lambda: None).clear()
    with count_queries() as fresh:
        assert client.get("/association/").status_code == 200
    with count_queries() as warm:
        page = client.get("/association/")
    return fresh.count, warm.count, page.get_data(as_text=True)


def test_query_count_is_the_same_at_3_and_at_100_colleges(
    app, client, auth, association, count_queries
):
    auth.login("staff1")
    client.get("/association/")  # the session's first page
    fresh_3, warm_3, html = _counted(app, client, count_queries)
    assert len(college_rows(html)) == 3
    _add_colleges(app, 4, 97)
    fresh_100, warm_100, html = _counted(app, client, count_queries)
    assert len(college_rows(html)) == 100
    assert fresh_3 == fresh_100 <= 10
    assert warm_3 == warm_100 < fresh_3


def test_a_refresh_that_stores_something_is_shown_at_once(
    app, client, auth, association
):
    auth.login("staff1")
    before = college_rows(client.get("/association/").get_data(as_text=True))
    assert before["EAST"]["qualified"] == "0"
    with app.app_context():
        teacher = db.session.scalar(select(User).filter_by(username="e_none"))
        db.session.add_all(
            qualifying(teacher.id, local_today(utcnow()) - timedelta(400))
        )
        db.session.commit()
        standings.refresh(utcnow())
        db.session.commit()
    after = college_rows(client.get("/association/").get_data(as_text=True))
    assert after["EAST"]["qualified"] == "1"


def test_recognised_counts_standing_recognitions_of_professional_teachers(
    app, client, auth, association
):
    today = local_today_now(app)
    for who, state, start in (
        ("d_now", "active", today - timedelta(days=30)),
        ("d_later", "review_due", today - timedelta(days=4 * 365)),
        ("d_other", "active", today - timedelta(days=30)),  # not professional
        ("n_now", "revoked", today - timedelta(days=30)),
        ("e_none", "active", today - timedelta(days=6 * 365)),  # expired by date
    ):
        make_recognition(app, association[who], valid_from=start, state=state)
    auth.login("staff1")
    rows = college_rows(client.get("/association/").get_data(as_text=True))
    assert {code: row["recognised"] for code, row in rows.items()} == {
        "DEMO": "2", "NORTH": "0", "EAST": "0",
    }  # fmt: skip


def local_today_now(app):
    with app.app_context():
        return local_today(utcnow())
