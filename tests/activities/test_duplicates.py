"""Double credit (issue 15, "Pages that work for their people"): a teacher who logs
by hand what an attendance or a placement already credited is warned before saving
(the form keeps what was typed, "save anyway" saves); the head's queue flags likely
duplicates, with a number of queries that does not grow with the page.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pdtracker.activities.duplicates import normalise, similar_titles
from pdtracker.activities.models import Activity
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise
from tests.activities.conftest import lecture_data

TITLE = "产教融合专家讲座"


@pytest.fixture(autouse=True)
def english(app, world) -> None:
    """The teacher and the head read English (the wording checked below)."""
    from pdtracker.auth.models import User

    with app.app_context():
        for name in ("teacher1", "head1"):
            db.session.get_one(User, world[name].id).locale = "en"
        db.session.commit()


def _hand_logged(app) -> list[Activity]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Activity).where(Activity.source == "self").order_by(Activity.id)
            )
        )


@pytest.fixture
def attended(world, make_activity):
    """The lecture, credited by attendance at the association's event."""
    return make_activity(world["teacher1"], title="产教融合专家讲座（第二期）",
                         source="event", status="verified",
                         starts_on=date(2026, 3, 10))  # fmt: skip


# --- titles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        (
            "产教融合专家讲座",
            "产教融合专家讲座（第二期）",
            True,
        ),  # one contains the other
        ("AI in Vocational Education", "ai  in vocational-education!", True),
        ("企业实践：华为技术有限公司", "华为技术有限公司企业实践", True),
        ("人工智能课程建设研讨会", "人工智能课程建设研讨", True),
        ("产教融合专家讲座", "机电一体化技能竞赛", False),
        ("", "产教融合专家讲座", False),
    ],
)
def test_similar_titles(a, b, alike) -> None:
    assert similar_titles(a, b) is alike


def test_normalise_keeps_letters_and_digits_only() -> None:
    assert normalise("ＡＩ 讲座（2026）") == "ai讲座2026"


# --- the teacher's form -----------------------------------------------------------


def test_logging_an_attended_lecture_warns_and_keeps_the_input(
    app, client, auth, attended
) -> None:
    auth.login("teacher1")
    data = lecture_data(title=TITLE, location="图书馆报告厅 A", notes="我的笔记")
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    page = response.text
    assert 'id="double-credit"' in page
    assert f'href="/activities/{attended.id}"' in page
    assert "credited by attendance at an event" in page
    assert "Save anyway" in page
    # What was typed is still there.
    assert f'value="{TITLE}"' in page
    assert 'value="图书馆报告厅 A"' in page
    assert "我的笔记" in page
    assert 'value="2026-03-10"' in page
    assert f'name="save_anyway" type="hidden" value="{attended.id}"' in page
    assert _hand_logged(app) == []
    # Save anyway: the same input with the confirmation saves it.
    response = client.post("/activities/new",
                           data={**data, "save_anyway": str(attended.id)})  # fmt: skip
    assert response.status_code == 302
    (saved,) = _hand_logged(app)
    assert (saved.title, saved.notes) == (TITLE, "我的笔记")


def test_a_confirmation_for_another_lookalike_does_not_count(
    app, client, auth, attended
) -> None:
    auth.login("teacher1")
    data = lecture_data(title=TITLE, save_anyway="999999")
    assert client.post("/activities/new", data=data).status_code == 200
    assert _hand_logged(app) == []


@pytest.mark.parametrize(
    "change",
    [
        {"title": "机电一体化技能竞赛"},  # another title
        {"starts_on": "2026-03-11", "ends_on": "2026-03-11"},  # another day
        {"kind_code": "seminar"},  # another kind
    ],
)
def test_something_else_saves_without_a_warning(
    app, client, auth, attended, change
) -> None:
    auth.login("teacher1")
    response = client.post(
        "/activities/new", data=lecture_data(**{"title": TITLE, **change})
    )
    assert response.status_code == 302
    assert len(_hand_logged(app)) == 1


def test_a_colleagues_attendance_is_not_mine(app, client, auth, world, make_activity):
    make_activity(world["teacher2"], title=TITLE, source="event", status="verified")
    auth.login("teacher1")
    assert (
        client.post("/activities/new", data=lecture_data(title=TITLE)).status_code
        == 302
    )


def test_a_placement_credited_activity_warns_by_enterprise(
    app, client, auth, world, make_activity
) -> None:
    with app.app_context():
        huawei = Enterprise(name="华为技术有限公司", city="深圳")
        db.session.add(huawei)
        db.session.commit()
        huawei_id = huawei.id
    credited = make_activity(
        world["teacher1"], kind_code="enterprise_placement", source="placement",
        status="verified", title="企业实践：华为技术有限公司", enterprise_id=huawei_id,
        starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 28), days=20,
    )  # fmt: skip
    auth.login("teacher1")
    data = lecture_data(
        kind_code="enterprise_placement", title="暑期下企业锻炼", hours=None,
        starts_on="2026-07-15", ends_on="2026-07-31", enterprise_id=str(huawei_id),
    )  # fmt: skip
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    assert "credited by an enterprise placement" in response.text
    assert f'href="/activities/{credited.id}"' in response.text


def test_editing_warns_too_and_never_about_itself(
    app, client, auth, world, make_activity, attended
) -> None:
    own = make_activity(
        world["teacher1"], title="另一场讲座", starts_on=date(2026, 3, 12)
    )
    auth.login("teacher1")
    url = f"/activities/{own.id}/edit"
    assert client.post(url, data=lecture_data(title="另一场讲座",
                                              starts_on="2026-03-12",
                                              ends_on="2026-03-12")).status_code == 302  # fmt: skip
    response = client.post(url, data=lecture_data(title=TITLE))
    assert response.status_code == 200
    assert 'id="double-credit"' in response.text
    with app.app_context():
        assert db.session.get_one(Activity, own.id).title == "另一场讲座"


# --- the head's queue -------------------------------------------------------------


def test_the_queue_flags_likely_duplicates(
    app, client, auth, world, make_activity, attended
) -> None:
    duplicate = make_activity(world["teacher1"], title=TITLE)
    other = make_activity(world["teacher1"], title="机电一体化技能竞赛")
    auth.login("head1")
    page = client.get("/activities/review").text
    assert page.count("Possible duplicate") == 1
    row = page.split(f'href="/activities/{duplicate.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-lookalike="{attended.id}"' in row
    other_row = page.split(f'href="/activities/{other.id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-lookalike" not in other_row


def test_the_queue_flags_in_a_bounded_number_of_queries(
    app, client, auth, world, make_activity, count_queries
) -> None:
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            day = date(2026, 1, 1 + i)
            make_activity(world["teacher1"], title=f"讲座{i}", source="event",
                          status="verified", starts_on=day)  # fmt: skip
            make_activity(world["teacher1"], title=f"讲座{i}", starts_on=day)

    auth.login("head1")
    add(1, 0)
    with count_queries() as small:
        assert client.get("/activities/review").text.count("Possible duplicate") == 1
    add(9, 1)
    with count_queries() as large:
        assert client.get("/activities/review").text.count("Possible duplicate") == 10
    assert large.count == small.count
