"""Evidence uploads: type by content, size limits, atomic storage, download headers."""

from __future__ import annotations

import io
import re
import urllib.parse

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from pdtracker.activities.evidence import UploadRejected, save_upload
from pdtracker.activities.models import EvidenceFile
from pdtracker.extensions import db
from tests.activities.conftest import EXE, JPEG, PDF, PNG, file_field, lecture_data

MIB = 1024 * 1024


def _evidence(app) -> list[EvidenceFile]:
    with app.app_context():
        rows = list(db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "培训证书.pdf", "application/pdf"),
        (JPEG, "合影.JPG", "image/jpeg"),
        (PNG, "screenshot.png", "image/png"),
        (PNG, "扫描件.pdf", "image/png"),  # the content decides, not the name
    ],
)
def test_upload_accepts_pdf_jpeg_png_by_content(
    app, client, auth, world, make_activity, uploaded_files, data, name, content_type
) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("teacher1")
    response = client.post(
        f"/activities/{activity.id}/evidence", data={"evidence": file_field(data, name)}
    )
    assert response.status_code == 302
    [row] = _evidence(app)
    assert row.original_name == name
    assert row.content_type == content_type
    assert row.size_bytes == len(data)
    assert len(row.sha256) == 64
    [stored] = uploaded_files()
    assert stored.name == row.stored_name
    assert stored.read_bytes() == data
    assert "static" not in stored.parts


def test_download_headers_and_bytes(
    client, auth, world, make_activity, make_evidence
) -> None:
    activity = make_activity(world["teacher1"])
    evidence = make_evidence(activity, PDF, "张老师 企业实践证明.pdf")
    auth.login("teacher1")
    with client.get(f"/activities/{activity.id}/evidence/{evidence.id}") as response:
        body = response.get_data()
    assert response.status_code == 200
    assert body == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    quoted = urllib.parse.quote("张老师 企业实践证明.pdf")
    assert f"filename*=UTF-8''{quoted}" in disposition
    assert "private" in response.headers["Cache-Control"]


def test_evidence_delete_removes_row_then_file(
    app, client, auth, world, make_activity, make_evidence, uploaded_files
) -> None:
    activity = make_activity(world["teacher1"])
    keep = make_evidence(activity, PNG, "keep.png")
    drop = make_evidence(activity, PDF, "drop.pdf")
    auth.login("teacher1")
    response = client.post(f"/activities/{activity.id}/evidence/{drop.id}/delete")
    assert response.status_code == 302
    assert [e.id for e in _evidence(app)] == [keep.id]
    assert [p.name for p in uploaded_files()] == [keep.stored_name]


def test_verified_activity_refuses_uploads_and_file_deletion(
    client, auth, world, make_activity, make_evidence, table_counts, uploaded_files
) -> None:
    activity = make_activity(world["teacher1"], status="verified")
    evidence = make_evidence(activity)
    auth.login("teacher1")
    before, files = table_counts(), uploaded_files()
    upload = client.post(
        f"/activities/{activity.id}/evidence",
        data={"evidence": file_field(PNG, "a.png")},
    )
    remove = client.post(f"/activities/{activity.id}/evidence/{evidence.id}/delete")
    assert (upload.status_code, remove.status_code) == (403, 403)
    assert table_counts() == before
    assert uploaded_files() == files


# --- bad input: a clear answer, nothing stored ------------------------------------


def _post_big(client, path: str, data: dict):
    """Post multipart data encoded in memory: the test client's own temporary file for
    large bodies is never closed, which pytest reports as an unraisable warning."""
    fields = {
        k: FileStorage(stream=v[0], filename=v[1]) if isinstance(v, tuple) else v
        for k, v in data.items()
    }
    body, _, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post(
        path,
        data=body.getvalue(),
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )


def _assert_nothing_changed(table_counts, uploaded_files, before) -> None:
    assert table_counts() == before
    assert uploaded_files() == []


def test_renamed_exe_is_refused(
    client, auth, world, table_counts, uploaded_files
) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    data = lecture_data(evidence=file_field(EXE, "证明材料.pdf"))
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in response.get_data(as_text=True)
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_renamed_exe_is_refused_on_the_detail_page(
    client, auth, world, make_activity, table_counts, uploaded_files
) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    response = client.post(
        f"/activities/{activity.id}/evidence",
        data={"evidence": file_field(EXE, "x.pdf")},
    )
    assert response.status_code == 200
    assert "is not a PDF, JPEG or PNG file" in response.get_data(as_text=True)
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_upload_over_the_evidence_limit_gets_a_form_message(
    client, auth, world, table_counts, uploaded_files
) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    big = PDF + b"0" * (10 * MIB)  # over 10 MiB, under the 12 MiB request limit
    response = _post_big(
        client, "/activities/new", lecture_data(evidence=file_field(big, "big.pdf"))
    )
    assert response.status_code == 200
    assert "at most 10 MB" in response.get_data(as_text=True)
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_request_over_the_content_limit_gets_a_clear_413(
    client, auth, world, table_counts, uploaded_files
) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    huge = PDF + b"0" * (13 * MIB)
    response = _post_big(
        client, "/activities/new", lecture_data(evidence=file_field(huge, "huge.pdf"))
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "evidence files can be at most 10 MB" in page
    assert "Nothing was saved" in page
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_empty_file_is_refused(
    client, auth, world, table_counts, uploaded_files
) -> None:
    auth.login("teacher1")
    before = table_counts()
    response = client.post(
        "/activities/new", data=lecture_data(evidence=file_field(b"", "empty.pdf"))
    )
    assert response.status_code == 200
    _assert_nothing_changed(table_counts, uploaded_files, before)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"starts_on": "2026-03-10", "ends_on": "2026-03-09"},
            "ends_on",
            "The end date is before the start date.",
        ),
        (
            {"start_time": "14:00", "end_time": "09:30"},
            "end_time",
            "The end time is before the start time.",
        ),
        ({"hours": "-3"}, "hours", "Hours must be between 0 and 9999."),
        (
            {"title": "长" * 10_000},
            "title",
            "The title can have at most 200 characters; this one has 10000.",
        ),
        ({"title": ""}, "title", "This field is required."),
    ],
    ids=[
        "end-before-start",
        "end-time-before-start",
        "negative-hours",
        "long-title",
        "no-title",
    ],
)
def test_bad_input_is_refused_with_a_message(
    client, auth, world, table_counts, uploaded_files, overrides, field, message
) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    before = table_counts()
    data = lecture_data(evidence=file_field(PDF, "ok.pdf"), **overrides)
    response = client.post("/activities/new", data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}"' in page
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_bad_edit_leaves_the_row_as_it_was(
    client, auth, world, make_activity, load_activity, table_counts
) -> None:
    activity = make_activity(world["teacher1"])
    auth.login("teacher1")
    before = table_counts()
    data = lecture_data(title="新标题", hours="-1")
    assert client.post(f"/activities/{activity.id}/edit", data=data).status_code == 200
    assert table_counts() == before
    row = load_activity(activity.id)
    assert (row.title, row.hours) == (activity.title, activity.hours)


def test_missing_csrf_token_is_refused(
    app, client, auth, world, table_counts, uploaded_files
) -> None:
    auth.login("teacher1")
    client.post("/language", data={"locale": "en"})
    app.config["WTF_CSRF_ENABLED"] = True
    before = table_counts()
    response = client.post(
        "/activities/new", data=lecture_data(evidence=file_field(PDF, "ok.pdf"))
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    _assert_nothing_changed(table_counts, uploaded_files, before)


def test_csrf_token_from_the_page_is_accepted(app, client, auth, world) -> None:
    auth.login("teacher1")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/activities/new").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/activities/new", data=lecture_data(csrf_token=token))
    assert response.status_code == 302


# --- storage itself --------------------------------------------------------------


class _Failing(io.BytesIO):
    """A stream that breaks after its first chunk, like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.chunks = 0

    def read(self, size: int = -1) -> bytes:
        if size == 64 * 1024:
            self.chunks += 1
            if self.chunks > 1:
                raise OSError("connection reset")
        return super().read(size)


def test_interrupted_write_leaves_no_file(tmp_path) -> None:
    stream = _Failing(PDF + b"0" * (300 * 1024))
    with pytest.raises(OSError, match="connection reset"):
        save_upload(stream, "a.pdf", tmp_path, 10 * MIB)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_save_upload_names_and_hashes(tmp_path) -> None:
    import hashlib

    stored = save_upload(io.BytesIO(PNG), "../../etc/照片.png", tmp_path, MIB)
    assert stored.original_name == "照片.png"
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored.stored_name.endswith(".png")
    assert len(stored.stored_name) == 36
    assert (tmp_path / "evidence" / stored.stored_name).read_bytes() == PNG
    with pytest.raises(UploadRejected) as refused:
        save_upload(io.BytesIO(EXE), "x.png", tmp_path, MIB)
    assert refused.value.code == "bad_type"


def test_list_shows_how_many_files_each_activity_has(
    client, auth, world, make_activity
) -> None:
    with_files = make_activity(world["teacher1"], title="有证明的讲座")
    make_activity(world["teacher1"], title="没有证明的讲座")
    auth.login("teacher1")
    for name in ("a.pdf", "b.png"):
        data = PDF if name.endswith(".pdf") else PNG
        response = client.post(
            f"/activities/{with_files.id}/evidence",
            data={"evidence": file_field(data, name)},
        )
        assert response.status_code == 302
    html = client.get("/activities/").get_data(as_text=True)
    counts = dict(
        re.findall(r">(有证明的讲座|没有证明的讲座)</a></td>\s*<td[^>]*>.*?</td>\s*<td>(\d+)</td>",
                   html, re.S)
    )  # fmt: skip
    assert counts == {"有证明的讲座": "2", "没有证明的讲座": "0"}
