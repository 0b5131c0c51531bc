"""Department exports: parse the CSV and the XLSX back and compare with the engine."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from pdtracker.extensions import db
from pdtracker.progress import exports
from pdtracker.progress.engine import evaluate
from pdtracker.progress.facts import facts_for_teachers, local_today
from pdtracker.progress.rulebook import load_builtin


@pytest.fixture
def seeded(app, world, make_activity):
    with app.app_context():
        today = local_today()
    make_activity(
        world["teacher1"], kind_code="enterprise_placement",
        starts_on=today - timedelta(days=400), ends_on=today - timedelta(days=221),
        days=180, status="verified",
    )  # fmt: skip
    make_activity(
        world["teacher1"], kind_code="training", starts_on=today - timedelta(days=50),
        ends_on=today - timedelta(days=50), hours=Decimal("360.5"), status="verified",
    )  # fmt: skip
    make_activity(
        world["teacher2"], kind_code="training", starts_on=today - timedelta(days=50),
        ends_on=today - timedelta(days=50), hours=Decimal("12"), status="verified",
    )  # fmt: skip
    return world


def _expected(app, world) -> dict[str, tuple[str, object]]:
    """Staff number → (是/否 from the engine, credited training hours)."""
    with app.app_context():
        ids = [world[k].id for k in ("teacher1", "teacher2", "head1")]
        facts = facts_for_teachers(ids)
        today = local_today()
    ruleset = load_builtin()
    out = {}
    for key in ("teacher1", "teacher2", "head1"):
        report = evaluate(ruleset, facts.get(world[key].id, []), today)
        out[f"S-{key}"] = (
            "是" if report.level else "否",
            report.requirement("training_hours").credited,
        )
    return out


def test_csv_matches_the_engine(app, client, auth, seeded) -> None:
    auth.login("head1")
    response = client.get("/progress/department.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(table) == 3
    expected = _expected(app, seeded)
    got = {
        row["工号"]: (row["是否双师型教师"], float(row["培训学时（学时）"]))
        for row in table
    }
    assert got == {k: (v[0], float(v[1])) for k, v in expected.items()}
    first = next(r for r in table if r["工号"] == "S-teacher1")
    assert (first["当前等级"], first["是否专业课教师"]) == ("初级", "是")
    assert first["企业实践（天）"] == "180"


def test_xlsx_matches_the_engine(app, client, auth, seeded) -> None:
    auth.login("head1")
    response = client.get("/progress/department.xlsx")
    assert response.status_code == 200
    assert response.mimetype == exports.XLSX_MIMETYPE
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = list(rows[0]), rows[1:]
    assert header[:6] == list(exports.FIXED_HEADERS)
    at = {name: header.index(name) for name in header}
    got = {
        row[at["工号"]]: (row[at["是否双师型教师"]], row[at["培训学时（学时）"]])
        for row in data
    }
    expected = _expected(app, seeded)
    assert got == expected
    assert got["S-teacher1"][1] == 360.5


def test_export_cells_cannot_hold_formulas(app, client, auth, world) -> None:
    from pdtracker.auth.models import User

    with app.app_context():
        db.session.get(User, world["teacher2"].id).display_name = "=HYPERLINK(1)"
        db.session.commit()
    auth.login("head1")
    body = client.get("/progress/department.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body
