"""The import page takes files up to the importer's bound (20 MiB) through the web,
with its own request limit set before the CSRF check reads the form; every other
request keeps the app-wide MAX_CONTENT_LENGTH (12 MiB), evidence uploads included."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from pdtracker.auth.models import Role
from pdtracker.onboarding.reading import MAX_BYTES

MIB = 1024 * 1024
HEADER = "工号,培训项目,培训类型,开始日期,获得学时,附注\n"


def records_csv(size: int, rows: int = 2000) -> bytes:
    """A records CSV of about ``size`` bytes: valid rows, an unmapped padding column."""
    lines = [
        f"S-t1,企业新技术培训第{i}期,培训,2024-05-{i % 28 + 1:02d},8,"
        for i in range(rows)
    ]
    base = len((HEADER + "\n".join(lines) + "\n").encode())
    pad = "x" * max(-(-(size - base) // rows), 0)
    return (HEADER + "".join(f"{line}{pad}\n" for line in lines)).encode()


def _check_csrf(app) -> None:
    """CSRF checked as in production (after logging in): it reads the form first."""
    app.config["WTF_CSRF_ENABLED"] = True


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _post(client, path: str, fields: dict, headers: dict | None = None):
    # Encoded in memory: the test client's own temporary file is never closed.
    body, _, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post(path, data=body.read(), headers=headers,
                       content_type=f'multipart/form-data; boundary="{boundary}"')  # fmt: skip


def _upload(client, data: bytes, headers: dict | None = None):
    fields = {"csrf_token": _token(client, "/imports/"), "importer": "records",
              "file": FileStorage(io.BytesIO(data), filename="台账.csv")}  # fmt: skip
    return _post(client, "/imports/", fields, headers)


@pytest.fixture
def admin(app, client, auth, make_department, make_user):
    ai = make_department("AI", "人工智能技术应用系")
    make_user("t1", Role.TEACHER, department=ai)
    make_user("admin", Role.ADMIN)
    auth.login("admin")
    _check_csrf(app)
    return client


def test_a_15_mib_file_is_accepted_and_checked(app, admin):
    data = records_csv(15 * MIB)
    assert 15 * MIB <= len(data) < 16 * MIB
    assert app.config["MAX_CONTENT_LENGTH"] < len(data)  # the app-wide limit stays

    response = _upload(admin, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    sha = response.headers["Location"].split("/")[-1].split("?")[0]
    assert sha == hashlib.sha256(data).hexdigest()  # the whole file arrived
    preview = admin.get(response.headers["Location"])
    assert preview.status_code == 200
    assert preview.get_data(as_text=True).count('data-action="create"') == 1000


def test_the_script_is_told_where_to_go(admin):
    response = _upload(admin, records_csv(100_000, rows=10),
                       {"X-Requested-With": "XMLHttpRequest"})  # fmt: skip
    assert response.status_code == 200
    assert response.json["location"].startswith("/imports/records/")


def test_evidence_over_the_app_limit_is_still_refused(app, client, auth, make_user):
    make_user("t1", Role.TEACHER)
    auth.login("t1")
    _check_csrf(app)
    pdf = io.BytesIO(b"%PDF-1.4\n" + b"0" * (15 * MIB))
    fields = {"csrf_token": _token(client, "/activities/new"), "title": "培训",
              "evidence": FileStorage(pdf, filename="a.pdf")}  # fmt: skip
    response = _post(client, "/activities/new", fields)
    assert response.status_code == 413


def test_a_21_mib_file_is_refused_with_the_importers_message(app, admin):
    response = _upload(admin, records_csv(21 * MIB))
    assert response.status_code == 302
    page = admin.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "此文件无法导入：文件超过 20 MiB" in html
    assert 'id="upload-form"' in html  # the page, ready for another file
    # Sent by the script: told to go back to the page, where the message waits.
    data = records_csv(21 * MIB)
    response = _upload(admin, data, {"X-Requested-With": "XMLHttpRequest"})
    assert response.json == {"location": "/imports/"}
    assert "文件超过 20 MiB" in admin.get("/imports/").get_data(as_text=True)


def test_the_file_field_announces_the_importers_bound(admin):
    html = admin.get("/imports/").get_data(as_text=True)
    assert f'data-max-bytes="{MAX_BYTES}"' in html
    assert "20 MB" in html
    assert "import-progress.js" in html
