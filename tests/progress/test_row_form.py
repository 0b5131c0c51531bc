"""The department page's compact rows (row_form.RowStatus) read like the engine's
whole status wherever the page, its exports and its ratio comparison look."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale
from hypothesis import given, settings

from pdtracker.extensions import db
from pdtracker.org.models import Department
from pdtracker.progress import cache, exports, row_form, services, views
from pdtracker.progress.facts import TeacherFacts
from pdtracker.progress.rulebook import load_builtin
from tests.progress.test_properties import STANDARD_KINDS, activities, any_date
from tests.progress.test_services import bulk_department

RULESETS = [load_builtin(n) for n in ("cn-vocational-default", "cn-college-example")]


def _as_read(status) -> tuple:
    """Everything the page, the exports and the ratio comparison read of a status."""
    report = status.report
    nxt = report.next_level
    lapse = status.lapse
    return (
        report.assessed,
        report.level,
        [(lv.code, lv.name) for lv in report.levels],
        None if nxt is None else (nxt.code, len(nxt.requirements)),
        [(r.code, r.unit, r.missing, r.name) for r in report.next_level_missing()],
        [
            report.requirement(r.code).credited
            for lv in report.levels
            for r in lv.requirements
        ],
        status.distance,
        status.lapses_on,
        None if lapse is None else (lapse.code, lapse.name, lapse.lapses_on),
        status.forecast_on,
        status.professional_course,
        status.dual_qualified,
        status.level_rank,
    )


@settings(max_examples=120, deadline=None)
@given(acts=activities(kinds=STANDARD_KINDS, max_size=12), as_of=any_date)
def test_a_stored_row_reads_as_the_status_it_was_made_from(acts, as_of) -> None:
    for ruleset in RULESETS:
        for professional in (True, False):
            status = services.status_for(
                None, TeacherFacts(facts=acts), ruleset, as_of,  # type: ignore[arg-type]
                professional=professional, years=2,
            )  # fmt: skip
            flags = services.chart_flags(status, ruleset, as_of)
            stored = json.loads(json.dumps(row_form.encode(status, flags)))
            row = row_form.decode(stored, ruleset)
            assert _as_read(row.status) == _as_read(status)
            assert row.flags == flags
            assert row_form.encode(row.status, row.flags) == stored


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


@pytest.fixture
def department(app, make_department, make_user) -> int:
    dept = bulk_department(app, make_department, "R", 40, 60)
    make_user("headR", "head", department=dept)
    return dept.id


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_the_page_body_and_exports_from_rows_equal_those_from_whole_statuses(
    app, department, locale
) -> None:
    with app.test_request_context(), force_locale(locale):
        chosen = db.session.get(Department, department)
        whole = services.evaluate_department(department)
        rows = cache.department_summary(chosen)
        assert all(isinstance(s, row_form.RowStatus) for s in rows.teachers)
        assert not any(isinstance(s, row_form.RowStatus) for s in whole.teachers)
        assert [s.teacher.id for s in rows.teachers] == [
            s.teacher.id for s in whole.teachers
        ]
        assert views._department_body(rows) == views._department_body(whole)
        assert exports.to_csv(rows) == exports.to_csv(whole)


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_a_cold_page_equals_a_warm_one(app, client, auth, department, locale) -> None:
    auth.login("headR")
    client.post("/language", data={"locale": locale})
    first = _without_csrf(client.get("/progress/department").get_data(as_text=True))
    warm = _without_csrf(client.get("/progress/department").get_data(as_text=True))
    with app.app_context():
        cache.caches().rows.clear()
        cache.caches().departments.clear()
    cold = _without_csrf(client.get("/progress/department").get_data(as_text=True))
    assert first == warm == cold
    assert 'id="teachers"' in cold
