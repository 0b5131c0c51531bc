"""Logout ends the session everywhere; the remember-me cookie is protected and short-lived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from tests.conftest import DEMO_PASSWORD

DOMAIN = "pdtracker.test"  # SERVER_NAME in the tests


def _login(client, remember: bool = True):
    data = {"username": "teacher1", "password": DEMO_PASSWORD}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def test_cookies_copied_before_logout_do_not_work_after_it(app, world) -> None:
    owner = app.test_client()
    assert _login(owner).status_code == 302
    session = owner.get_cookie("session", domain=DOMAIN).value
    remember = owner.get_cookie("remember_token", domain=DOMAIN).value
    assert owner.post("/logout").status_code == 302

    with_session = app.test_client()
    with_session.set_cookie("session", session, domain=DOMAIN)
    assert with_session.get("/account/settings").status_code == 302

    with_remember = app.test_client()
    with_remember.set_cookie("remember_token", remember, domain=DOMAIN)
    assert with_remember.get("/account/settings").status_code == 302


def test_logout_clears_the_remember_cookie(app, world) -> None:
    client = app.test_client()
    _login(client)
    response = client.post("/logout")
    cleared = [
        h for h in response.headers.getlist("Set-Cookie") if "remember_token=" in h
    ]
    assert cleared
    assert "remember_token=;" in cleared[0]
    assert client.get_cookie("remember_token", domain=DOMAIN) is None


def test_remember_cookie_follows_the_session_cookie_flags(
    world, make_app, monkeypatch
) -> None:
    """PDTRACKER_SESSION_COOKIE_SECURE=true makes remember_token Secure too; 30 days."""
    monkeypatch.setenv("PDTRACKER_SESSION_COOKIE_SECURE", "true")
    secure = make_app()
    response = _login(secure.test_client())
    (cookie,) = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_")
    ]
    attributes = [part.strip() for part in cookie.split(";")]
    assert "Secure" in attributes
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    (expires,) = [a for a in attributes if a.startswith("Expires=")]
    life = parsedate_to_datetime(expires.removeprefix("Expires=")) - datetime.now(UTC)
    assert timedelta(days=29) < life <= timedelta(days=30)
