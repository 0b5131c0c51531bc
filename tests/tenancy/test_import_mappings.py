"""Saved column mappings belong to a college (issue 14).

A college admin (or head) saves and uses their college's mappings only: another
college's are neither listed nor applied, and a name may be used by each college
for its own. The deployment admin sees every college's, named by college, and
uses those of the college they import into.
"""

from __future__ import annotations

import io
import uuid

import pytest
from flask_migrate import downgrade as migrate_down
from flask_migrate import upgrade as migrate_up
from sqlalchemy import select, text

from pdtracker import create_app
from pdtracker.extensions import db
from pdtracker.onboarding.models import ImportMapping
from tests import factories
from tests.conftest import PG_URL, requires_postgres
from tests.onboarding.test_views import form_fields
from tests.support import pg_database
from tests.tenancy.conftest import ACTORS

# 日期 is no known header: a mapping names it the start date.
LEDGER = "工号,名称,类型,日期,学时\nS-teacher1,讲座甲,讲座,2026-03-01,2\n".encode()


def _upload(client, mapping: str = "", college: int | None = None):
    data = {"importer": "records", "file": (io.BytesIO(LEDGER), "f.csv")}
    if mapping:
        data["mapping"] = mapping
    if college is not None:
        data["college"] = str(college)
    response = client.post("/imports/", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _start_date_column(page: str) -> str:
    return form_fields(page)["col_3"]


def _save(client, name: str, college: int | None = None) -> None:
    location = _upload(client, college=college)
    fields = form_fields(client.get(location).get_data(as_text=True))
    fields.update(col_3="starts_on", save_as=name)
    path = location.partition("?")[0]
    target = path + "/check" + (f"?college={college}" if college is not None else "")
    assert client.post(target, data=fields).status_code == 200


def _saved(app) -> dict[tuple[int | None, str], dict]:
    with app.app_context():
        return {
            (m.institution_id, m.name): m.columns
            for m in db.session.scalars(select(ImportMapping))
        }


def test_a_colleges_mapping_is_its_own(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("cadmin1")
    _save(client, "台账")
    assert "台账" in client.get("/imports/").get_data(as_text=True)
    auth.logout()
    auth.login("cadmin2")
    client.get("/imports/")  # spends cadmin1's flash
    assert "台账" not in client.get("/imports/").get_data(as_text=True)
    # NORTH asking for the name gets no mapping: the column stays unmapped.
    page = client.get(_upload(client, mapping="台账")).get_data(as_text=True)
    assert _start_date_column(page) == ""
    # NORTH saves its own under the same name; DEMO's is untouched.
    _save(client, "台账")
    saved = _saved(app)
    assert set(saved) == {(w["demo"].id, "台账"), (w["north"].id, "台账")}
    auth.logout()
    auth.login("head1")  # DEMO's head uses DEMO's mappings
    page = client.get(_upload(client, mapping="台账")).get_data(as_text=True)
    assert _start_date_column(page) == "starts_on"


def test_the_deployment_admin_uses_the_chosen_colleges(app, client, auth, two_colleges):
    w = two_colleges
    auth.login("cadmin1")
    _save(client, "台账")
    auth.logout()
    auth.login("admin")
    client.get("/imports/")
    index = client.get("/imports/").get_data(as_text=True)
    assert "示范职业技术学院" in index.split('id="mappings"')[1]
    north = client.get(_upload(client, "台账", college=w["north"].id))
    assert _start_date_column(north.get_data(as_text=True)) == ""
    demo = client.get(_upload(client, "台账", college=w["demo"].id))
    assert _start_date_column(demo.get_data(as_text=True)) == "starts_on"
    _save(client, "北城格式", college=w["north"].id)
    assert (w["north"].id, "北城格式") in _saved(app)


@pytest.mark.parametrize("role", [*ACTORS, "mentor"])
def test_who_saves_a_mapping(app, client, auth, two_colleges, table_rows, role):
    """Saving needs the records importer: admins and heads, each in their college."""
    if role == "mentor":
        factories.make_user(app, "mentor1", "mentor")
    auth.login(ACTORS.get(role, "mentor1"))
    if role in {"teacher", "staff", "mentor"}:
        before = table_rows()
        data = {"importer": "records", "file": (io.BytesIO(LEDGER), "f.csv")}
        response = client.post(
            "/imports/", data=data, content_type="multipart/form-data"
        )
        assert response.status_code == 403
        assert client.get("/imports/").status_code == 403
        assert table_rows() == before
        return
    # A college in the URL is the deployment admin's choice; forged by others, ignored.
    _save(client, f"{role}-map", college=two_colleges["north"].id)
    home = two_colleges["north"].id if role == "admin" else two_colleges["demo"].id
    assert set(_saved(app)) == {(home, f"{role}-map")}


NOW = "'2026-12-07 03:00:00+00:00'"


def _check_migration_gives_mappings_their_college(url: str, tmp_path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path),
        }
    )
    with app.app_context():
        migrate_up(revision="0013")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO institutions (id, code, name) VALUES (3, 'DEMO', '示范')",
                "INSERT INTO users (id, username, display_name, password_hash,"
                " is_active, session_version, locale, timezone, created_at,"
                " updated_at, institution_id) VALUES (1, 'cadmin', '管理员', 'x',"
                f" true, 0, 'zh_Hans_CN', 'Asia/Shanghai', {NOW}, {NOW}, 3)",
                "INSERT INTO import_mappings (id, importer, name, columns,"
                f" created_by_id, updated_at) VALUES (1, 'records', '台账', '{{}}', 1,"
                f" {NOW}), (2, 'records', '旧', '{{}}', NULL, {NOW})",
            ):
                conn.execute(text(statement))
        migrate_up(revision="0014")
        with db.engine.begin() as conn:
            found = dict(
                conn.execute(
                    text("SELECT id, institution_id FROM import_mappings")
                ).all()
            )
            assert found == {1: 3, 2: None}
            # Each college may now use the name; down again, the oldest keeps it.
            conn.execute(
                text(
                    "INSERT INTO import_mappings (id, importer, name, columns,"
                    f" institution_id, updated_at) VALUES (5, 'records', '台账', '{{}}',"
                    f" NULL, {NOW})"
                )
            )
        db.session.remove()
        migrate_down(revision="0013")
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT id FROM import_mappings ORDER BY id"))
            assert [row[0] for row in kept] == [1, 2]
        migrate_down(revision="base")
        db.engine.dispose()


def test_sqlite_migration_gives_mappings_their_college(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    _check_migration_gives_mappings_their_college(url, tmp_path)


@requires_postgres
def test_postgres_migration_gives_mappings_their_college(tmp_path) -> None:
    name = f"pdtracker_mappings_{uuid.uuid4().hex[:8]}"
    with pg_database(PG_URL, name) as url:
        _check_migration_gives_mappings_their_college(url, tmp_path)
