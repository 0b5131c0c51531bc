"""Teacher and department dashboards: content, access, bounded queries."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext

from pdtracker.progress.facts import local_today
from tests.progress.test_services import add_placement, bulk_department


def _today(app) -> date:
    with app.app_context():
        return local_today()


def _catalog_has_progress_strings(app) -> bool:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext("Not reached") != "Not reached"


def test_teacher_dashboard_shows_level_and_missing_in_chinese(
    app, client, auth, world, make_activity
) -> None:
    if not _catalog_has_progress_strings(app):
        pytest.skip("the Chinese catalog is not compiled with the progress strings yet")
    today = _today(app)
    t1 = world["teacher1"]
    make_activity(
        t1, kind_code="training", starts_on=today - timedelta(days=300),
        ends_on=today - timedelta(days=296), hours=Decimal("360"), status="verified",
    )  # fmt: skip
    make_activity(
        t1, kind_code="enterprise_placement", starts_on=today - timedelta(days=200),
        ends_on=today - timedelta(days=58), days=143, status="verified",
    )  # fmt: skip
    add_placement(
        app, t1, today + timedelta(days=10), today + timedelta(days=46), "approved"
    )
    auth.login("teacher1")
    html = client.get("/progress/").get_data(as_text=True)
    assert "未达到" in html
    assert "还差 37 天企业实践" in html
    assert 'data-requirement="enterprise_practice" data-credited="143"' in html
    forecast = (today + timedelta(days=46)).isoformat()
    assert f'data-forecast="{forecast}"' in html
    assert "华为技术有限公司" in html  # the placement that fills the gap
    assert "职业学校教师企业实践规定" in html  # the requirement's source text


def test_teacher_dashboard_in_english(app, client, auth, world, make_activity) -> None:
    today = _today(app)
    make_activity(
        world["teacher1"], kind_code="enterprise_placement",
        starts_on=today - timedelta(days=200), ends_on=today - timedelta(days=58),
        days=143, status="verified",
    )  # fmt: skip
    add_placement(
        app, world["teacher1"], today + timedelta(days=10), today + timedelta(days=46),
        "approved",
    )  # fmt: skip
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    html = client.get("/progress/").get_data(as_text=True)
    assert "37 days of Enterprise practice still missing" in html
    assert "360 hours of Training hours still missing" in html
    assert "Not reached" in html
    assert "Public standard" in html
    assert "华为技术有限公司" in html  # the coming placement
    assert "Not reached with what is planned so far." in html  # training is missing


def test_home_sends_teachers_and_heads_to_their_dashboards(
    client, auth, world, make_user
) -> None:
    auth.login("teacher1")
    assert client.get("/").headers["Location"].endswith("/progress/")
    auth.logout()
    make_user("onlyhead", "head", department=world["ai"])
    auth.login("onlyhead")
    assert client.get("/").headers["Location"].endswith("/progress/department")


@pytest.mark.parametrize(
    ("user", "status"),
    [("teacher1", 403), ("staff1", 403), ("head1", 200), ("admin", 200)],
)
def test_department_page_access(client, auth, world, user, status) -> None:
    auth.login(user)
    assert client.get("/progress/department").status_code == status
    assert client.get("/progress/department.csv").status_code == status


def test_department_page_needs_login(client) -> None:
    assert client.get("/progress/department").status_code == 302


def test_head_cannot_ask_for_another_department(client, auth, world) -> None:
    auth.login("head1")
    other = world["other"].id
    assert client.get(f"/progress/department?department={other}").status_code == 404
    assert client.get(f"/progress/department.csv?department={other}").status_code == 404


def test_admin_chooses_a_department(client, auth, world) -> None:
    auth.login("admin")
    html = client.get(f"/progress/department?department={world['other'].id}").get_data(
        as_text=True
    )
    assert "机电工程系" in html
    assert 'name="department"' in html
    assert client.get("/progress/department?department=99999").status_code == 404


@pytest.mark.parametrize(
    ("viewer", "target", "status"),
    [
        ("head1", "teacher1", 200),
        ("head2", "teacher1", 404),
        ("teacher2", "teacher1", 404),
        ("teacher1", "teacher1", 200),
        ("admin", "teacher1", 200),
        ("head1", "staff1", 404),
    ],
)
def test_teacher_page_access(client, auth, world, viewer, target, status) -> None:
    auth.login(viewer)
    assert client.get(f"/progress/teachers/{world[target].id}").status_code == status


def test_missing_teacher_is_404(client, auth, world) -> None:
    auth.login("admin")
    assert client.get("/progress/teachers/999999").status_code == 404


def test_department_page_shows_ratio_lapses_and_chart(
    app, client, auth, world, make_activity
) -> None:
    today = _today(app)
    t1 = world["teacher1"]
    # Qualified now; the practice starts leaving the 5-year window in ~100 days.
    start = today.replace(year=today.year - 5) + timedelta(days=100)
    make_activity(
        t1, kind_code="enterprise_placement", starts_on=start,
        ends_on=start + timedelta(days=179), days=180, status="verified",
    )  # fmt: skip
    make_activity(
        t1, kind_code="training", starts_on=today - timedelta(days=30),
        ends_on=today - timedelta(days=30), hours=Decimal("360"), status="verified",
    )  # fmt: skip
    auth.login("head1")
    html = client.get("/progress/department").get_data(as_text=True)
    # teacher1 of three professional-course teachers (teacher1, teacher2, head1).
    assert 'id="ratio-now" data-qualified="1" data-total="3"' in html
    assert "33.3%" in html
    assert re.search(r'id="lapsing".*?teacher1', html, re.S)
    assert "<polyline" in html
    assert "style=" not in html  # CSP: no inline styles
    assert f'href="/progress/teachers/{t1.id}"' in html


def _count(client, count_queries, path: str) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


def test_department_page_query_count_does_not_grow(
    app, client, auth, make_department, make_user, count_queries
) -> None:
    small = bulk_department(app, make_department, "S", 30, 100)
    large = bulk_department(app, make_department, "L", 300, 100)
    make_user("headS", "head", department=small)
    make_user("headL", "head", department=large)
    auth.login("headS")
    small_count = _count(client, count_queries, "/progress/department")
    auth.logout()
    auth.login("headL")
    large_count = _count(client, count_queries, "/progress/department")
    assert small_count == large_count


def test_teacher_page_query_count_does_not_grow(
    app, client, auth, world, make_activity, count_queries
) -> None:
    auth.login("teacher1")
    make_activity(world["teacher1"], status="verified")
    few = _count(client, count_queries, "/progress/")
    for n in range(30):
        make_activity(
            world["teacher1"], status="planned", starts_on=date(2030, 1, 1 + n % 28)
        )
    many = _count(client, count_queries, "/progress/")
    assert few == many
