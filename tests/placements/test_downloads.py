"""The final report downloads with the extension of its detected type."""

from __future__ import annotations

import io

import pytest
from werkzeug.http import parse_options_header

from tests.placements.conftest import PDF


@pytest.mark.parametrize(
    ("name", "expected"),
    [("report.hta", "report.pdf"), ("总结.html", "总结.pdf"), ("noext", "noext.pdf")],
)
def test_report_download_is_a_pdf_whatever_its_upload_name(
    client, auth, world, make_enterprise, make_placement, name, expected
) -> None:
    placement = make_placement(
        world["teacher1"], make_enterprise(), status="in_progress"
    )
    auth.login("head1")
    url = f"/placements/{placement.id}"
    client.post(
        f"{url}/complete",
        data={"report": (io.BytesIO(PDF), name)},
        content_type="multipart/form-data",
    )
    with client.get(f"{url}/report") as response:
        assert response.status_code == 200
        assert response.get_data() == PDF
    assert response.mimetype == "application/pdf"
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", expected)
