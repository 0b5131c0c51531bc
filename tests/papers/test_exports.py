"""Official exports parsed back and compared with the recognitions."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.recognition.models import Recognition
from tests.factories import make_recognition

ON = "2027-01-15"


@pytest.fixture
def college(app, people, make_user, make_department):
    me = make_department("ME", "机电工程系")
    pro = make_user("zs", Role.TEACHER, department=me, display_name="张三")
    general = make_user("ls", Role.TEACHER, department=me, display_name="李四",
                        professional_course=False)  # fmt: skip
    # Recognised on ON: 王小华 (active), 张三 (expired since, valid then).
    make_recognition(app, people["teacher"])
    make_recognition(app, pro, valid_from=date(2022, 2, 1))
    # Not counted: 李明 revoked; the head suspended.
    make_recognition(app, people["colleague"], state="revoked")
    make_recognition(app, people["head"], state="suspended")
    with app.app_context():
        db.session.execute(
            db.update(Recognition)
            .where(Recognition.teacher_id == pro.id)
            .values(state="expired")
        )
        db.session.commit()
    return {"pro": pro, "general": general}


def _xlsx(response) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_staff_data_sfssxjs_from_recognitions(client, auth, people, college):
    auth.login("cadmin1")
    rows = _xlsx(client.get(f"/papers/exports/staff.xlsx?on={ON}"))
    assert rows[0] == ["工号", "姓名", "院系", "SFSSXJS"]
    flags = {row[1]: row[3] for row in rows[1:]}
    assert flags == {"王小华": 1, "张三": 1, "李明": 0, "head1": 0, "李四": 0}
    as_csv = _csv(client.get(f"/papers/exports/staff.csv?on={ON}"))
    assert {r[1]: r[3] for r in as_csv[1:]} == {k: str(v) for k, v in flags.items()}
    # Before 王小华's recognition starts, only 张三 counts.
    early = _xlsx(client.get("/papers/exports/staff.xlsx?on=2026-06-30"))
    assert {r[1] for r in early[1:] if r[3] == 1} == {"张三"}


def test_ratio_per_department_and_college(client, auth, people, college):
    auth.login("cadmin1")
    rows = _csv(client.get(f"/papers/exports/ratio.csv?on={ON}"))
    assert rows[0][-1] == "专任教师双师素质比例(%)"
    by_name = {r[0]: r[1:] for r in rows[1:]}
    # AI: 王小华, 李明, head1 (all professional), one recognised.
    assert by_name["人工智能技术应用系"] == ["3", "3", "1", "33.3"]
    # ME: 张三 (professional, recognised), 李四 (general course).
    assert by_name["机电工程系"] == ["2", "1", "1", "100.0"]
    assert by_name["示范职业技术学院"] == ["5", "4", "2", "50.0"]


def test_training_hours_by_organiser_level(app, client, auth, people, make_activity):
    teacher = people["teacher"]
    for level, hours in (("province", "6"), ("national", "3"), (None, "2")):
        make_activity(teacher, status="verified", organizer_level=level,
                      hours=Decimal(hours), starts_on=date(2026, 5, 1))  # fmt: skip
    make_activity(teacher, status="verified", organizer_level="city",
                  hours=Decimal("9"), starts_on=date(2025, 5, 1))  # fmt: skip
    auth.login("cadmin1")
    rows = _xlsx(client.get("/papers/exports/training.xlsx?year=2026"))
    head = rows[0]
    assert head[3:9] == ["区县级", "市级", "省级", "国家级", "境外", "未注明"]
    mine = next(r for r in rows[1:] if r[1] == "王小华")
    assert dict(zip(head[3:], mine[3:], strict=True)) == {
        "区县级": 0,
        "市级": 0,
        "省级": 6,
        "国家级": 3,
        "境外": 0,
        "未注明": 2,
        "合计(学时)": 11,
    }


def test_exports_neutralise_formulas(app, client, auth, people, make_user):
    evil = make_user("evil", Role.TEACHER, department=people["ai"],
                     display_name='=HYPERLINK("http://x","点此")')  # fmt: skip
    make_recognition(app, evil)
    auth.login("cadmin1")
    rows = _xlsx(client.get(f"/papers/exports/staff.xlsx?on={ON}"))
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x","点此")' in names
    as_csv = _csv(client.get(f"/papers/exports/staff.csv?on={ON}"))
    assert all(not r[1].startswith("=") for r in as_csv)


def test_exports_are_for_administrators(client, auth, people):
    auth.login("wxh")
    assert client.get("/papers/exports/staff.csv").status_code == 403
    auth.logout()
    auth.login("head1")
    assert client.get("/papers/exports/ratio.xlsx").status_code == 403
