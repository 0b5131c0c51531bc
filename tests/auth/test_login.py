"""Login, logout, throttling, password change and session revocation."""

from __future__ import annotations

from pdtracker.auth.models import User
from pdtracker.extensions import db


def test_login_page_renders_in_chinese_by_default(client) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)


def test_login_and_logout(client, auth, world) -> None:
    response = auth.login("teacher1")
    assert response.status_code == 302
    assert client.get("/account/settings").status_code == 200
    auth.logout()
    assert client.get("/account/settings").status_code == 302


def test_wrong_password_is_refused(client, auth, world) -> None:
    response = auth.login("teacher1", "wrong-password")
    assert response.status_code == 200
    assert client.get("/account/settings").status_code == 302


def test_login_is_throttled_per_account(client, auth, world) -> None:
    for _ in range(5):
        auth.login("teacher1", "wrong-password")
    response = auth.login("teacher1")  # right password, but locked for now
    assert response.status_code == 429
    assert client.get("/account/settings").status_code == 302


def test_login_is_throttled_per_address(app, client, auth, world) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for name in ("teacher1", "teacher2", "head1"):
        auth.login(name, "wrong-password")
    assert auth.login("head2").status_code == 429


def test_password_change_ends_other_sessions(app, world) -> None:
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": "teacher1", "password": "pdtracker-demo"})
    response = first.post(
        "/account/password",
        data={
            "current_password": "pdtracker-demo",
            "new_password": "a-new-long-password",
            "confirm": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert first.get("/account/settings").status_code == 200
    assert second.get("/account/settings").status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="teacher1"))
        assert user.check_password("a-new-long-password")
        assert user.password_hash.startswith("scrypt:")


def test_inactive_user_cannot_log_in(app, client, auth, world) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="teacher2"))
        user.is_active_account = False
        db.session.commit()
    auth.login("teacher2")
    assert client.get("/account/settings").status_code == 302


def test_open_redirect_is_ignored(client, world) -> None:
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"username": "teacher1", "password": "pdtracker-demo"},
    )
    assert "evil.example.com" not in response.headers["Location"]


def test_next_with_control_characters_is_ignored(client, world) -> None:
    for bad in (
        "/x%0d%0aSet-Cookie:%20evil=1",
        "/x%0aLocation:%20http://evil.example.com",
        "/%09/evil.example.com",
        "/\\evil.example.com",
        "\\\\evil.example.com",
    ):
        response = client.post(
            f"/login?next={bad}",
            data={"username": "teacher1", "password": "pdtracker-demo"},
        )
        assert response.status_code == 302, bad
        assert response.headers["Location"] == "/", bad
        client.post("/logout")


def test_safe_next_is_followed(client, world) -> None:
    response = client.post(
        "/login?next=/activities/%3Fpage%3D2",
        data={"username": "teacher1", "password": "pdtracker-demo"},
    )
    assert response.headers["Location"] == "/activities/?page=2"


def test_every_login_checks_one_password_hash(app, client, world, monkeypatch) -> None:
    """Unknown and inactive accounts cost the same work as active ones (no timing tell)."""
    import pdtracker.auth.models as models

    calls: list[str] = []
    real = models.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="teacher2"))
        user.is_active_account = False
        db.session.commit()
    for username in ("teacher1", "nobody-here", "teacher2"):
        calls.clear()
        client.post("/login", data={"username": username, "password": "a-guess"})
        assert calls == ["a-guess"], username
