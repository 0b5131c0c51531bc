"""Forgotten password: a single-use, 30-minute link mailed through the outbox."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from pdtracker.auth.models import PasswordResetToken, User
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.models import Notification, NotificationKind
from tests.conftest import DEMO_PASSWORD

NEW = "a-brand-new-password"


def _ask(client, identifier: str):
    return client.post("/password/forgot", data={"identifier": identifier})


def _reset_links(app) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            db.select(Notification)
            .filter_by(kind=NotificationKind.PASSWORD_RESET.value)
            .order_by(Notification.id)
        )
        return [row.payload["url"] for row in rows]


def _path(link: str) -> str:
    return link.removeprefix("http://pdtracker.test")


def _set(client, link: str, password: str = NEW):
    return client.post(
        _path(link), data={"new_password": password, "confirm": password}
    )


def _can_log_in(app, password: str, username: str = "teacher1") -> bool:
    response = app.test_client().post(
        "/login", data={"username": username, "password": password}
    )
    return response.status_code == 302


@pytest.fixture
def mail(app, smtp):
    """Mail is configured (reset links need it)."""
    return smtp


def test_login_page_links_to_the_reset_form(client, mail) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    assert client.get("/password/forgot").status_code == 200


def test_full_reset_by_email(app, client, world, mail, clock) -> None:
    other = app.test_client()  # a session opened before the reset
    other.post("/login", data={"username": "teacher1", "password": DEMO_PASSWORD})
    assert other.get("/account/settings").status_code == 200

    response = _ask(client, "teacher1@example.edu.cn")
    assert response.status_code == 302
    with app.app_context():
        result = dispatch_due(clock.now)
    assert result["emailed"] == 1
    (message,) = mail.received()
    assert message["To"].endswith("<teacher1@example.edu.cn>")
    body = message.get_body(("plain",)).get_content()
    (link,) = re.findall(r"http://pdtracker\.test/password/reset/[\w-]+", body)

    form = client.get(_path(link))
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "private, no-store"
    assert _set(client, link).status_code == 302
    assert _can_log_in(app, NEW)
    assert not _can_log_in(app, DEMO_PASSWORD)
    assert other.get("/account/settings").status_code == 302  # other sessions ended
    with app.app_context():
        (token,) = db.session.scalars(db.select(PasswordResetToken))
        assert token.used_at is not None
        raw = link.rsplit("/", 1)[1]
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_public_base_url_makes_the_link(app, client, world, mail) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn/"
    _ask(client, "teacher1")
    (link,) = _reset_links(app)
    assert link.startswith("https://pd.example.edu.cn/password/reset/")


def test_unknown_account_gets_the_identical_answer(app, world, mail) -> None:
    answers = []
    for identifier in ("teacher1", "no-such-person", "ghost@example.edu.cn"):
        client = app.test_client()
        response = _ask(client, identifier)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # per session
        answers.append((response.status_code, response.headers["Location"], page))
    assert answers[0] == answers[1] == answers[2]
    assert len(_reset_links(app)) == 1  # only the real account got a link


def test_inactive_account_gets_no_link(app, client, world, mail) -> None:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="teacher2"))
        user.is_active_account = False
        db.session.commit()
    assert _ask(client, "teacher2").status_code == 302
    assert _reset_links(app) == []


def test_a_link_works_once(app, client, world, mail) -> None:
    _ask(client, "teacher1")
    (link,) = _reset_links(app)
    assert _set(client, link).status_code == 302
    again = _set(client, link, "yet-another-password")
    assert again.status_code == 302
    assert again.headers["Location"] == "/password/forgot"
    assert client.get(_path(link)).status_code == 302
    assert _can_log_in(app, NEW)
    assert not _can_log_in(app, "yet-another-password")


def test_an_expired_link_is_refused(app, client, world, mail, clock) -> None:
    _ask(client, "teacher1")
    (link,) = _reset_links(app)
    clock.advance(timedelta(minutes=31))
    assert _set(client, link).status_code == 302
    assert _can_log_in(app, DEMO_PASSWORD)
    assert not _can_log_in(app, NEW)


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    app, client, world, mail
) -> None:
    _ask(client, "teacher1")
    (link,) = _reset_links(app)
    short = _set(client, link, "short")
    assert short.status_code == 200
    assert _can_log_in(app, DEMO_PASSWORD)
    assert _set(client, link).status_code == 302
    assert _can_log_in(app, NEW)


def test_a_new_password_also_cancels_older_links(app, client, world, mail) -> None:
    _ask(client, "teacher1")
    _ask(client, "teacher1")
    first, second = _reset_links(app)
    assert _set(client, second).status_code == 302
    assert _set(client, first, "yet-another-password").headers["Location"] == (
        "/password/forgot"
    )
    assert _can_log_in(app, NEW)


def test_requests_are_throttled_per_account_and_address(app, world, mail) -> None:
    app.config.update(
        PASSWORD_RESET_MAX_PER_ACCOUNT=2, PASSWORD_RESET_MAX_PER_ADDRESS=4
    )
    client = app.test_client()
    assert [_ask(client, "teacher1").status_code for _ in range(3)] == [302, 302, 429]
    assert len(_reset_links(app)) == 2
    # The same answer for an account that does not exist: no tell.
    assert [_ask(client, "nobody").status_code for _ in range(3)] == [302, 302, 429]
    # The address has used its four requests now.
    assert _ask(client, "teacher2").status_code == 429


def test_reset_links_are_not_shown_in_app(app, client, world, mail, clock) -> None:
    """Anyone holding a session could otherwise set a password without the current one."""
    _ask(client, "teacher1")
    with app.app_context():
        dispatch_due(clock.now)
    client.post("/login", data={"username": "teacher1", "password": DEMO_PASSWORD})
    page = client.get("/notifications/").get_data(as_text=True)
    assert "/password/reset/" not in page


def test_reset_tokens_are_redacted_from_logs() -> None:
    from pdtracker.logs import redact

    line = '127.0.0.1 "GET /password/reset/Zx9_secret-Token HTTP/1.1" 200'
    assert "Zx9_secret-Token" not in redact(line)
    assert "/password/reset/[redacted]" in redact(line)
