"""The public check page: masking, unknown numbers, caching and the rate limit."""

from __future__ import annotations

import pytest

from pdtracker.papers.checking import mask_name
from tests.factories import make_recognition


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小华", "王*华"),
        ("王华", "王*"),
        ("欧阳小华", "欧**华"),
        ("王", "王"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_unknown_number_is_404_and_not_cached(client, people):
    response = client.get("/verify/PDAAAAAAAAAAAAAAAA")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_check_page_needs_no_login_and_shows_only_the_claims(app, client, auth, people):
    rec = make_recognition(app, people["teacher"])
    auth.login("wxh")
    client.post(f"/papers/certificates/{rec.id}")
    auth.logout()
    page = client.get(f"/verify/{rec.certificate_number}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "王*华" in page.text
    assert "王小华" not in page.text
    assert "S-wxh" not in page.text  # the staff number is not a claim shown
    assert "示范职业技术学院" in page.text
    assert "2026-07-01" in page.text
    assert "2031-07-01" in page.text


def test_recognition_without_a_certificate_paper_is_unknown(app, client, people):
    rec = make_recognition(app, people["teacher"])
    assert client.get(f"/verify/{rec.certificate_number}").status_code == 404


def test_rate_limit_per_address(app, client, people):
    app.config["VERIFY_FREE_PER_ADDRESS"] = 3
    codes = [client.get("/verify/PDAAAAAAAAAAAAAAAA").status_code for _ in range(4)]
    assert codes[:3] == [404, 404, 404]
    assert codes[3] == 429
    other = client.get(
        "/verify/PDAAAAAAAAAAAAAAAA", environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 404
