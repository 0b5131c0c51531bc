"""Security headers, cookie flags, CSRF, and the app factory's promises."""

from __future__ import annotations

from pdtracker import create_app
from pdtracker.extensions import db


def test_security_headers_on_every_response(client) -> None:
    for path in ("/login", "/static/css/app.css", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_flags(client, world) -> None:
    response = client.post(
        "/login", data={"username": "teacher1", "password": "pdtracker-demo"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookie_when_configured(app, world, tmp_path) -> None:
    secure_app = create_app(
        {**app.config, "SESSION_COOKIE_SECURE": True, "WTF_CSRF_ENABLED": False}
    )
    response = secure_app.test_client().post(
        "/login",
        data={"username": "teacher1", "password": "pdtracker-demo"},
        base_url="https://pdtracker.test",
    )
    with secure_app.app_context():
        # Close its pooled connection now: left to the garbage collector, it would
        # warn (unclosed connection) in whichever test happens to run then.
        db.engine.dispose()
    assert "Secure" in response.headers["Set-Cookie"]


def test_login_without_csrf_token_is_refused(app, client, world) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/login", data={"username": "teacher1", "password": "pdtracker-demo"}
    )
    assert response.status_code == 400
    assert client.get("/account/settings").status_code == 302


def test_login_with_csrf_token_works(app, client, world) -> None:
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={
            "username": "teacher1",
            "password": "pdtracker-demo",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_create_app_starts_no_scheduler(app) -> None:
    import threading

    names = {t.name for t in threading.enumerate()}
    assert not any("APScheduler" in n or "scheduler" in n.lower() for n in names)


def test_english_is_switchable(client, world) -> None:
    client.post("/login", data={"username": "teacher1", "password": "pdtracker-demo"})
    client.post("/language", data={"locale": "en"})
    page = client.get("/account/settings").get_data(as_text=True)
    assert "Settings" in page
    client.post("/language", data={"locale": "zh_Hans_CN"})
    assert "设置" in client.get("/account/settings").get_data(as_text=True)
