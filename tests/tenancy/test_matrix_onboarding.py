"""Imports across two colleges: a college admin's (and a head's) imports touch only
their college; a row naming another college's teacher is refused, never matched,
and told apart from an unknown one only to the deployment admin (a college's
admin learns nothing of another college's people); the deployment admin imports
into the college they choose.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.onboarding.plan import Action
from pdtracker.onboarding.services import run_import
from pdtracker.timeutil import utcnow
from tests import factories
from tests.tenancy.conftest import ACTORS, ROLES

PEOPLE = (
    "工号,姓名,院系\n"
    "T-NEW,新老师,人工智能技术应用系\n"
    "T-LOST,迷路,北城人工智能系\n"
    "S-north_teacher1,北城改名,人工智能技术应用系\n"
).encode()
RECORDS = (
    "工号,项目名称,类型,开始日期,学时\n"
    "S-teacher1,本校讲座,讲座,2026-03-01,3\n"
    "S-north_teacher1,北城讲座,讲座,2026-03-02,3\n"
    "S-head2,他系讲座,讲座,2026-03-03,3\n"
).encode()


def _actor(app, username: str) -> User:
    user = db.session.scalar(select(User).filter_by(username=username))
    assert user is not None
    return user


def _plan(app, importer: str, data: bytes, username: str, college=None):
    with app.app_context():
        plan, _ = run_import(
            importer, data, filename="f.csv", actor=_actor(app, username),
            now=utcnow(), dry_run=True, college=college,
        )  # fmt: skip
        db.session.rollback()
        return {r.number: (r.action, [e.code for e in r.errors]) for r in plan.rows}


def test_college_admins_people_import_stays_in_their_college(app, two_colleges):
    rows = _plan(app, "people", PEOPLE, "cadmin1")
    assert rows[2] == (Action.CREATE, [])
    assert rows[3][1] == ["unknown_department"]
    # Each college numbers its own people: NORTH's 工号 is free in DEMO, so
    # the row makes a DEMO teacher and NORTH's person is never matched.
    assert rows[4] == (Action.CREATE, [])


def test_records_naming_another_colleges_teacher_are_refused(app, two_colleges):
    rows = _plan(app, "records", RECORDS, "cadmin1")
    assert rows[2] == (Action.CREATE, [])
    assert rows[3][1] == ["unknown_teacher"]  # north_teacher1: not said to exist
    assert rows[4] == (Action.CREATE, [])  # head2 teaches in DEMO/ME


def test_a_heads_records_stay_in_their_department(app, two_colleges):
    rows = _plan(app, "records", RECORDS, "head1")
    assert rows[2] == (Action.CREATE, [])
    assert rows[3][1] == ["unknown_teacher"]
    assert rows[4][1] == ["unknown_teacher"]  # same college, another department


def test_the_deployment_admin_imports_into_the_chosen_college(app, two_colleges):
    rows = _plan(app, "records", RECORDS, "admin", college=two_colleges["north"].id)
    # A 工号 is NORTH's numbering here: DEMO's S-teacher1 is not NORTH's teacher.
    assert rows[2][1] == ["unknown_teacher"]
    assert rows[3] == (Action.CREATE, [])
    people = _plan(app, "people", PEOPLE, "admin", college=two_colleges["north"].id)
    assert people[2][1] == ["unknown_department"]  # DEMO's department name
    assert people[4][1] == ["unknown_department"]
    # NORTH's 工号 is free in DEMO: a new DEMO teacher, not NORTH's person.
    demo = _plan(app, "people", PEOPLE, "admin", college=two_colleges["demo"].id)
    assert demo[4] == (Action.CREATE, [])


def _upload(client, importer: str, data: bytes, **extra):
    return client.post(
        "/imports/",
        data={"importer": importer, "file": (io.BytesIO(data), "f.csv"), **extra},
        content_type="multipart/form-data",
    )


def _apply(client, response, refused: str | None = None):
    location = response.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    if refused:  # the refused row is listed with its reason
        assert f'data-code="{refused}"' in page
    path, _, query = location.partition("?")
    college = [p for p in query.split("&") if p.startswith("college=")]
    target = path + "/apply" + ("?" + college[0] if college else "")
    return client.post(target, data={"filename": "f.csv"})


def test_college_admin_applies_records_of_their_college_only(
    app, client, auth, two_colleges, table_rows
) -> None:
    auth.login("cadmin1")
    before = table_rows(["users", "teacher_profiles"])
    # A forged college in the form is not a college admin's to choose: ignored.
    response = _upload(
        client, "records", RECORDS, college=str(two_colleges["north"].id)
    )
    assert response.status_code == 302
    assert _apply(client, response, "unknown_teacher").status_code == 200
    with app.app_context():
        titles = dict(
            db.session.execute(
                select(Activity.title, User.username).join(User, Activity.teacher)
            ).all()
        )
    assert titles["本校讲座"] == "teacher1"
    assert titles["他系讲座"] == "head2"
    assert "北城讲座" not in titles
    assert table_rows(["users", "teacher_profiles"]) == before


def test_deployment_admin_applies_people_into_north(app, client, auth, two_colleges):
    north = two_colleges["north"]
    auth.login("admin")
    data = "工号,姓名,院系\nT-N1,北城新人,北城人工智能系\nT-N2,无系之人,\n".encode()
    response = _upload(client, "people", data, college=str(north.id))
    assert _apply(client, response).status_code == 200
    with app.app_context():
        found = dict(
            db.session.execute(
                select(User.username, User.institution_id).where(
                    User.username.in_(["T-N1", "T-N2"])
                )
            ).all()
        )
    assert found == {"T-N1": north.id, "T-N2": north.id}


def test_a_college_admins_preview_tells_nothing_of_another_college(
    client, auth, two_colleges
) -> None:
    auth.login("cadmin1")
    client.post("/language", data={"locale": "en"})
    for importer, data, code in (
        ("people", PEOPLE, None),  # NORTH's 工号 is free in DEMO: a new teacher
        ("records", RECORDS, "unknown_teacher"),
    ):
        response = _upload(client, importer, data)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        if code is not None:
            assert f'data-code="{code}"' in page
            assert "S-north_teacher1" in page  # what the file says is kept
        assert "another college" not in page
        assert "北城职业技术学院" not in page
        assert "other_college" not in page


# Who reaches the import pages at all (GET), and who runs which importer.
PAGES = {  # status per role: teacher head college_admin staff admin mentor
    "index": ("/imports/", "403 200 200 403 200 403"),
    "sample": ("/imports/samples/records_platform.xlsx", "403 200 200 403 200 403"),
}
PAGE_ROLES = (*ROLES, "mentor")


@pytest.mark.parametrize("route", PAGES)
@pytest.mark.parametrize("role", PAGE_ROLES)
def test_import_pages_by_role(
    app, client, auth, two_colleges, table_rows, route, role
) -> None:
    path, expected = PAGES[route]
    codes = (int(x) for x in expected.split())
    status = dict(zip(PAGE_ROLES, codes, strict=True))[role]
    if role == "mentor":
        factories.make_user(app, "mentor1", "mentor")
    auth.login(ACTORS.get(role, "mentor1"))
    before = table_rows()
    with client.get(path) as response:  # a sample is a file: closed after reading
        assert response.status_code == status
    assert table_rows() == before


@pytest.mark.parametrize(
    ("role", "importer", "expected"),
    [
        ("college_admin", "enterprises", 403),
        ("college_admin", "people", 302),
        ("head", "people", 403),
        ("admin", "enterprises", 302),
    ],
)
def test_who_runs_which_importer(
    client, auth, two_colleges, table_rows, role, importer, expected
) -> None:
    auth.login(ACTORS[role])
    before = table_rows()
    response = _upload(client, importer, "企业名称\n甲公司\n".encode())
    assert response.status_code == expected
    assert table_rows() == before


def test_the_command_line_imports_into_one_college(app, runner, two_colleges, tmp_path):
    path = tmp_path / "records.csv"
    path.write_bytes(RECORDS)
    result = runner.invoke(
        args=[
            "import",
            "records",
            str(path),
            "--college",
            "NORTH",
            "--json",
            "--dry-run",
        ]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["created"] == 1
    # DEMO's 工号 name no one in NORTH (each college numbers its own).
    assert {e["code"] for e in report["errors"]} == {"unknown_teacher"}
    unknown = runner.invoke(args=["import", "records", str(path), "--college", "NOPE"])
    assert unknown.exit_code == 2
