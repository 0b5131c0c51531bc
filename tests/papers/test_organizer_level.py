"""The organiser level reaches activities through the import (for the training statistics)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from tests.onboarding.conftest import college, run_cli, sample, xlsx  # noqa: F401

HEADER = ("工号", "项目名称", "类型", "开始日期", "学时", "主办单位", "主办单位级别")


@pytest.mark.usefixtures("college")
def test_import_reads_the_organiser_level(app, run_cli):  # noqa: F811
    run_cli("people", sample("people.xlsx"))
    rows = [
        ("00123", "讲座甲", "讲座", "2024-03-01", 2, "省教育厅", "省级"),
        ("00123", "讲座乙", "讲座", "2024-04-01", 2, "教育部", "国家级"),
        ("00123", "讲座丙", "讲座", "2024-05-01", 2, "协会", None),
    ]
    code, report = run_cli("records", xlsx(HEADER, *rows))
    assert code == 0, report
    with app.app_context():
        rows_ = db.session.execute(select(Activity.title, Activity.organizer_level))
        levels = {title: level for title, level in rows_}
    assert levels == {"讲座甲": "province", "讲座乙": "national", "讲座丙": None}
    # The same file again: unchanged; a changed level: updated.
    assert run_cli("records", xlsx(HEADER, *rows))[1]["unchanged"] == 3
    changed = [(*rows[0][:6], "市级"), *rows[1:]]
    assert run_cli("records", xlsx(HEADER, *changed))[1]["updated"] == 1


@pytest.mark.usefixtures("college")
def test_import_refuses_an_unknown_level(app, run_cli):  # noqa: F811
    run_cli("people", sample("people.xlsx"))
    row = ("00123", "讲座甲", "讲座", "2024-03-01", 2, "省教育厅", "宇宙级")
    code, report = run_cli("records", xlsx(HEADER, row))
    [error] = report["errors"]
    assert (error["code"], error["column"]) == (
        "invalid_organizer_level",
        "主办单位级别",
    )
    assert "宇宙级" in error["message"]
    assert report["created"] == 0
