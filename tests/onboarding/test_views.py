"""The import pages: upload, preview with an edited mapping, apply, result file,
activation links over HTTP, and who may reach what."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role
from pdtracker.extensions import db
from pdtracker.onboarding.models import ActivationToken, ImportMapping
from pdtracker.timeutil import utcnow
from tests.onboarding.conftest import sample, xlsx

NO_STORE = "private, no-store"


def upload(client, importer: str, data: bytes, name: str = "f.xlsx", **extra):
    return client.post(
        "/imports/",
        data={"importer": importer, "file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


def preview_path(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"].split("?")[0]


def form_fields(html: str) -> dict[str, str]:
    """The preview form's fields as the page sets them (selected options)."""
    fields = {}
    for name, body in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)" selected', body
        )
        fields[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html
    ):
        fields.setdefault(name, value)
    return fields


@pytest.fixture
def admin_client(client, auth, college):
    auth.login("admin")
    return client


def test_people_upload_preview_apply_and_activation(app, admin_client, table_counts):
    before = table_counts()
    response = upload(admin_client, "people", sample("people.xlsx"), "people.xlsx")
    path = preview_path(response)
    page = admin_client.get(response.headers["Location"])
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == NO_STORE
    html = page.get_data(as_text=True)
    assert html.count('data-action="create"') == 4
    assert table_counts() == before  # the preview wrote nothing

    result = admin_client.post(path + "/apply", data=form_fields(html))
    assert result.status_code == 200
    assert result.headers["Cache-Control"] == NO_STORE
    text = result.get_data(as_text=True)
    links = re.findall(r"http://pdtracker\.test/activate/[A-Za-z0-9_-]+", text)
    assert len(links) == 4

    download = re.search(r'href="(/imports/results/[^"]+\.xlsx)"', text).group(1)
    workbook = load_workbook(io.BytesIO(admin_client.get(download).data))
    assert workbook.sheetnames[1:]  # the activation links sheet
    sheet = workbook.worksheets[1]
    assert {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)} == set(
        links
    )

    # The link works once, over HTTP, without signing in.
    admin_client.post("/logout")
    link = links[0].removeprefix("http://pdtracker.test")
    form = admin_client.get(link)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == NO_STORE
    password = "a fine new password"
    done = admin_client.post(link, data={"new_password": password, "confirm": password})
    assert done.status_code == 302
    assert admin_client.get(link).status_code == 302  # spent
    username = sheet.cell(row=2, column=1).value
    assert admin_client.post("/login", data={"username": username,
                                             "password": password}).status_code == 302  # fmt: skip


def test_an_expired_activation_link_is_refused(app, admin_client):
    response = upload(admin_client, "people", sample("people.xlsx"))
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    text = admin_client.post(preview_path(response) + "/apply",
                             data=form_fields(html)).get_data(as_text=True)  # fmt: skip
    link = re.findall(r"/activate/[A-Za-z0-9_-]+", text)[0]
    with app.app_context():
        # The links were made 14 days and a second ago.
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(update(ActivationToken).values(expires_at=past))
        db.session.commit()
    admin_client.post("/logout")
    assert admin_client.get(link).status_code == 302
    password = "a fine new password"
    refused = admin_client.post(
        link, data={"new_password": password, "confirm": password}
    )
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith("/login")


def test_records_mapping_fixed_in_the_preview_saved_and_errors_file(app, admin_client):
    upload(admin_client, "people", sample("people.xlsx"))  # the teachers first
    html = admin_client.get(
        upload(admin_client, "people", sample("people.xlsx")).headers["Location"]
    ).get_data(as_text=True)
    admin_client.post(
        preview_path(upload(admin_client, "people", sample("people.xlsx"))) + "/apply",
        data=form_fields(html),
    )
    header = ("工号", "名称", "类型", "日期", "学时")  # 日期 is not a known header
    data = xlsx(header, ("00123", "讲座甲", "讲座", "2024-03-01", 2),
                ("00123", '=HYPERLINK("http://x","点此")', "春游", "2024-03-02", 2))  # fmt: skip
    response = upload(admin_client, "records", data, "ledger.xlsx")
    path = preview_path(response)
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-code="missing_value"' in page  # no start date without the column
    fields = form_fields(page)
    assert fields["col_3"] == ""
    fields.update(col_3="starts_on", save_as="我校台账")
    checked = admin_client.post(path + "/check", data=fields)
    assert checked.status_code == 200
    checked_html = checked.get_data(as_text=True)
    assert checked_html.count('data-action="create"') == 1
    assert 'data-code="unknown_type"' in checked_html
    with app.app_context():
        saved = db.session.scalar(select(ImportMapping))
        assert (saved.name, saved.columns["日期"]) == ("我校台账", "starts_on")

    fields.pop("save_as")
    result = admin_client.post(path + "/apply", data=fields)
    text = result.get_data(as_text=True)
    download = re.search(r'href="(/imports/results/[^"]+\.xlsx)"', text).group(1)
    reply = admin_client.get(download)
    assert reply.headers["Cache-Control"] == NO_STORE
    sheet = load_workbook(io.BytesIO(reply.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "错误原因"
    assert rows[0][1:-1] == header
    assert len(rows) == 2
    assert rows[1][0] == 3  # Excel's row number
    assert rows[1][2] == '\'=HYPERLINK("http://x","点此")'  # text, never a formula
    assert sheet.cell(row=2, column=3).data_type == "s"
    assert "类型" in rows[1][-1]
    with app.app_context():
        assert db.session.scalars(select(Activity.title)).all() == ["讲座甲"]


def test_an_unreadable_file_is_refused_with_a_message(admin_client, table_counts):
    before = table_counts()
    response = upload(admin_client, "people", b"%PDF-1.4\x00\x01 nope", "x.pdf")
    page = admin_client.get(response.headers["Location"], follow_redirects=True)
    assert page.status_code == 200
    assert "文件既不是 XLSX 工作簿，也不是 CSV 文件" in page.get_data(as_text=True)
    assert table_counts() == before


def test_another_users_upload_is_not_found(app, client, auth, college, make_user):
    make_user("admin2", Role.ADMIN)
    auth.login("admin")
    path = preview_path(upload(client, "people", sample("people.xlsx")))
    auth.logout()
    auth.login("admin2")
    assert client.get(path).status_code == 404


ROLES = ("anonymous", "teacher1", "head1", "staff1", "admin")


def _expected(row: str) -> dict[str, int]:
    return dict(zip(ROLES, (302, *(int(c) for c in row.split())), strict=True))


# route → (method, path, expected for teacher1, head1, staff1, admin)
MATRIX = {
    "index": ("GET", "/imports/", "403 200 403 200"),
    "upload_people": ("POST", "/imports/", "403 403 403 302"),
    "upload_records": ("POST", "/imports/", "403 302 403 302"),
    "sample_people": ("GET", "/imports/samples/people.xlsx", "403 403 403 200"),
    "sample_records": ("GET", "/imports/samples/records_platform.xlsx",
                       "403 200 403 200"),
    "preview_people": ("GET", "/imports/people/{sha}", "403 403 403 200"),
    "preview_records": ("GET", "/imports/records/{sha}", "403 200 403 200"),
    "apply_people": ("POST", "/imports/people/{sha}/apply", "403 403 403 200"),
    "unknown_importer": ("GET", "/imports/salaries/{sha}", "403 404 403 404"),
}  # fmt: skip
CASES = [
    pytest.param(route, role, status, id=f"{route}-{role}")
    for route, (_, _, row) in MATRIX.items()
    for role, status in _expected(row).items()
]


@pytest.mark.parametrize(("route", "role", "expected"), CASES)
def test_access_matrix(app, client, auth, world, table_counts, route, role, expected):
    from pdtracker.onboarding.uploads import store_upload

    importer = "records" if "records" in route else "people"
    data = sample("records_platform.xlsx" if importer == "records" else "people.xlsx")
    method, template, _ = MATRIX[route]
    sha = "0" * 64
    if role != "anonymous":
        auth.login(role)
        with app.test_request_context():
            user_id = world[role].id
            sha = store_upload(data, user_id)
    body = None
    if route.startswith("upload"):
        body = {"importer": importer, "file": (io.BytesIO(data), "f.xlsx")}
    before = table_counts()
    with client.open(template.format(sha=sha), method=method, data=body) as response:
        text = response.get_data(as_text=False)  # reads and closes a sent file
    assert response.status_code == expected, text[:300]
    if expected in (200, 302) and role != "anonymous" and response.status_code == 200:
        assert response.headers["Cache-Control"] == NO_STORE
    if expected >= 400 or role == "anonymous":
        assert table_counts() == before


def test_an_admin_extends_the_type_table(app, admin_client, run_cli):
    run_cli("people", sample("people.xlsx"))
    data = xlsx(
        ("工号", "项目名称", "类型", "开始日期"),
        ("00123", "访学一年", "访学", "2024-01-01"),
    )
    assert run_cli("records", data)[1]["errors"][0]["code"] == "unknown_type"
    response = admin_client.post("/imports/types", data={"type-name": "访学",
                                                          "type-kind": "training"})  # fmt: skip
    assert response.status_code == 302
    assert "访学 → training" in admin_client.get("/imports/").get_data(as_text=True)
    code, report = run_cli("records", data)
    assert (report["created"], report["errors"]) == (1, [])


def test_only_admins_extend_the_type_table(client, auth, world, table_counts):
    auth.login("head1")
    before = table_counts()
    response = client.post("/imports/types", data={"type-name": "访学",
                                                   "type-kind": "training"})  # fmt: skip
    assert response.status_code == 403
    assert table_counts() == before
