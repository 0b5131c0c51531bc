"""Activation links mailed through the outbox to new accounts with an e-mail address.

A real SMTP server (aiosmtpd) receives what the dispatcher sends; accounts without
an address keep their link listed on the result page, in the XLSX and by the CLI.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from openpyxl import load_workbook
from sqlalchemy import func, select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.dispatch import dispatch_due
from pdtracker.notifications.inbox import inbox_query, unread_count
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.onboarding import apply as apply_module
from pdtracker.timeutil import utcnow
from tests.notifications.smtp import SmtpSink
from tests.onboarding.conftest import xlsx
from tests.onboarding.test_views import form_fields, preview_path, upload

HEADER = ("工号", "姓名", "院系", "邮箱", "角色")
TWO_NEW = xlsx(
    HEADER,
    ("00201", "李娜", "人工智能技术应用系", "lina@example.edu.cn", "教师"),
    ("00202", "赵强", "机电工程系", "", "教师"),
)
LINK = re.compile(r"http://pdtracker\.test/activate/[A-Za-z0-9_-]+")
PASSWORD = "a fine new password"


@pytest.fixture
def smtp(app) -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1; the app is configured to send to it."""
    sink = SmtpSink().start()
    app.config.update(sink.config())
    yield sink
    sink.stop()


@pytest.fixture
def admin_client(client, auth, college):
    auth.login("admin")
    return client


def _apply(client, data: bytes) -> str:
    response = upload(client, "people", data, "people.xlsx")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    result = client.post(preview_path(response) + "/apply", data=form_fields(html))
    assert result.status_code == 200
    return result.get_data(as_text=True)


def _result_sheet(client, page: str) -> list[tuple]:
    download = re.search(r'href="(/imports/results/[^"]+\.xlsx)"', page).group(1)
    book = load_workbook(io.BytesIO(client.get(download).data))
    return list(book.worksheets[1].iter_rows(min_row=2, values_only=True))


def _activation_rows(app) -> list[Notification]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification).filter_by(
                    kind=NotificationKind.ACCOUNT_ACTIVATION.value
                )
            )
        )


def test_one_mail_for_the_account_with_an_address_one_link_listed(
    app, admin_client, smtp
):
    page = _apply(admin_client, TWO_NEW)
    (listed,) = LINK.findall(page)  # only the account without an address
    assert "data-mailed" in page
    rows = {row[0]: row for row in _result_sheet(admin_client, page)}
    assert rows["00202"][3] == listed
    assert not LINK.search(str(rows["00201"][3]))  # mailed, not listed

    with app.app_context():
        result = dispatch_due(utcnow())
    assert result["emailed"] == 1
    (message,) = smtp.received()
    assert message["To"].endswith("<lina@example.edu.cn>")
    body = message.get_body(("plain",)).get_content()
    (mailed,) = LINK.findall(body)
    assert "00201" in body  # the login name

    admin_client.post("/logout")
    path = mailed.removeprefix("http://pdtracker.test")
    assert admin_client.get(path).status_code == 200
    done = admin_client.post(path, data={"new_password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    assert admin_client.get(path).status_code == 302  # spent: works once
    login = {"username": "00201", "password": PASSWORD}
    assert admin_client.post("/login", data=login).status_code == 302


def test_the_activation_mail_is_never_in_the_inbox(app, admin_client, smtp):
    _apply(admin_client, TWO_NEW)
    with app.app_context():
        dispatch_due(utcnow())
        user = db.session.scalar(select(User).filter_by(username="00201"))
        (row,) = _activation_rows(app)
        assert row.status == "sent"
        assert db.session.scalars(inbox_query(user)).all() == []
        assert unread_count(user.id) == 0


def test_the_mail_is_in_the_recipients_language_and_zone(app, admin_client, smtp):
    _apply(admin_client, TWO_NEW)
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="00201"))
        user.locale, user.timezone = "en", "America/Los_Angeles"
        db.session.commit()
        (row,) = _activation_rows(app)
        local = row.stale_after.astimezone(ZoneInfo(user.timezone))
        dispatch_due(utcnow())
    (message,) = smtp.received()
    assert message["Subject"] == "Activate your account"
    body = message.get_body(("plain",)).get_content()
    assert format_date(local.date(), "full", locale="en") in body
    assert local.strftime("%H:%M") in body
    assert row.stale_after - row.due_at == timedelta(days=14)


def test_without_a_mail_server_every_link_is_listed(app, admin_client):
    assert not app.config.get("MAIL_SERVER")
    page = _apply(admin_client, TWO_NEW)
    assert len(LINK.findall(page)) == 2
    assert "data-mailed" not in page
    assert _activation_rows(app) == []


def test_the_command_mails_with_a_public_base_url(app, run_cli, runner, college,
                                                  smtp, tmp_path):  # fmt: skip
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn/"
    path = tmp_path / "people.xlsx"
    path.write_bytes(TWO_NEW)
    result = runner.invoke(args=["import", "people", str(path)])
    assert result.exit_code == 0, result.output
    assert "lina@example.edu.cn" in result.output
    links = re.findall(r"https://pd\.example\.edu\.cn/activate/[\w-]+", result.output)
    assert len(links) == 1  # the account without an address
    (row,) = _activation_rows(app)
    assert row.payload["url"].startswith("https://pd.example.edu.cn/activate/")
    assert row.payload["url"] not in links


def test_the_command_json_keys_are_unchanged(app, run_cli, college, smtp):
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn"
    code, report = run_cli("people", TWO_NEW)
    assert code == 0
    assert set(report) == {"rows", "created", "updated", "unchanged", "duplicates",
                           "errors"}  # fmt: skip
    assert len(_activation_rows(app)) == 1


def test_the_command_without_a_base_url_mails_nothing(app, run_cli, college, smtp):
    # No request and no PUBLIC_BASE_URL: a mailed link would not open; listed instead.
    assert run_cli("people", TWO_NEW)[0] == 0
    assert _activation_rows(app) == []


def test_a_failed_apply_plans_no_mail(app, run_cli, college, smtp, monkeypatch,
                                      table_counts):  # fmt: skip
    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn"
    before = table_counts()

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(apply_module, "record", fail)  # after the mail is planned
    code, _output = run_cli("people", TWO_NEW)
    assert code != 0
    assert table_counts() == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
