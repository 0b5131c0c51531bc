"""Turning a notification into words (in the recipient's language and zone) and e-mail."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import formataddr
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from pdtracker.auth.models import User
from pdtracker.notifications.attachments import ICS_FILENAME, METHOD, event_ics
from pdtracker.notifications.content import Content, Formatter, event_when
from pdtracker.notifications.models import Notification, NotificationKind
from pdtracker.notifications.outcome_messages import OUTCOME_COMPOSERS, OUTCOME_LABELS

K = NotificationKind

# What each kind is called on the preferences page.
KIND_LABELS: dict[NotificationKind, Any] = {
    K.EVENT_TOMORROW: _l("An event I registered for is tomorrow"),
    K.REGISTRATION_DEADLINE: _l("Registration for an event I follow closes soon"),
    K.PLACEMENT_STARTING: _l("An enterprise placement starts in 7 days"),
    K.PLACEMENT_REPORT_DUE: _l("A placement report is due"),
    K.VERIFICATION_DIGEST: _l("Activities waiting for verification (weekly)"),
    K.LAPSE_WARNING: _l("Dual-qualified status about to lapse"),
    K.DEPARTMENT_DIGEST: _l("Weekly department digest"),
    K.FEED_FAILED: _l("A subscribed calendar feed failed to refresh"),
    **OUTCOME_LABELS,
}


def _event_tomorrow(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("You are registered for %(title)s.", title=p.get("title", "")),
        event_when(p, fmt),
    ]
    if p.get("location"):
        lines.append(_("Location: %(location)s", location=p["location"]))
    if p.get("online_url"):
        lines.append(_("Online: %(url)s", url=p["online_url"]))
    return Content(
        _("Tomorrow: %(title)s", title=p.get("title", "")),
        lines,
        ("events.detail", {"event_id": p.get("object_id")}),
        _("Open the event"),
    )


def _registration_deadline(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("Registration for %(title)s closes %(deadline)s.", title=p.get("title", ""),
          deadline=fmt.when(p.get("deadline"))),
        event_when(p, fmt),
    ]  # fmt: skip
    return Content(
        _("Registration closes soon: %(title)s", title=p.get("title", "")),
        lines,
        ("events.detail", {"event_id": p.get("object_id")}),
        _("Open the event"),
    )


def _placement_starting(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("The enterprise placement of %(teacher)s at %(enterprise)s runs from "
          "%(start)s to %(end)s.", teacher=p.get("teacher", ""),
          enterprise=p.get("enterprise", ""), start=fmt.day(p.get("starts_on")),
          end=fmt.day(p.get("ends_on"))),
    ]  # fmt: skip
    if p.get("mentor"):
        lines.append(_("Enterprise mentor: %(mentor)s", mentor=p["mentor"]))
    return Content(
        _("Placement at %(enterprise)s starts in 7 days",
          enterprise=p.get("enterprise", "")),
        lines,
        ("placements.detail", {"placement_id": p.get("object_id")}),
        _("Open the placement"),
    )  # fmt: skip


def _placement_report_due(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("The enterprise placement of %(teacher)s at %(enterprise)s ended on "
          "%(end)s.", teacher=p.get("teacher", ""),
          enterprise=p.get("enterprise", ""), end=fmt.day(p.get("ends_on"))),
        _("Please upload the final report by %(due)s.", due=fmt.day(p.get("due_on"))),
    ]  # fmt: skip
    return Content(
        _("Placement report due: %(enterprise)s", enterprise=p.get("enterprise", "")),
        lines,
        ("placements.detail", {"placement_id": p.get("object_id")}),
        _("Open the placement"),
    )


def _verification_digest(p: Mapping[str, Any], fmt: Formatter) -> Content:
    count = int(p.get("count", 0))
    lines = [
        ngettext("%(num)s activity has waited more than 7 days for verification.",
                 "%(num)s activities have waited more than 7 days for verification.",
                 count),
    ]  # fmt: skip
    lines += [
        _("%(teacher)s: %(title)s (since %(since)s)", teacher=item.get("teacher", ""),
          title=item.get("title", ""), since=fmt.day(item.get("since")))
        for item in p.get("items", [])
    ]  # fmt: skip
    return Content(
        ngettext("%(num)s activity waits for verification",
                 "%(num)s activities wait for verification", count),
        lines,
        ("activities.review_queue", {}),
        _("Open the verification queue"),
    )  # fmt: skip


def _lapse_warning(p: Mapping[str, Any], fmt: Formatter) -> Content:
    name = p.get("requirement_en") if fmt.locale.startswith("en") else None
    name = name or p.get("requirement_zh") or p.get("requirement", "")
    days = int(p.get("days", 0))
    lines = [
        ngettext("%(teacher)s: “%(requirement)s” stops being met on %(on)s, in "
                 "%(num)s day.",
                 "%(teacher)s: “%(requirement)s” stops being met on %(on)s, in "
                 "%(num)s days.", days, teacher=p.get("teacher", ""),
                 requirement=name, on=fmt.day(p.get("lapses_on"))),
        _("Plan an activity that counts toward it before then."),
    ]  # fmt: skip
    # A head's copy is about one of their teachers: it opens that teacher's page.
    teacher_id = p.get("object_id")
    about_someone_else = teacher_id is not None and teacher_id != p.get("recipient_id")
    return Content(
        ngettext("Dual-qualified status: “%(requirement)s” lapses in %(num)s day",
                 "Dual-qualified status: “%(requirement)s” lapses in %(num)s days",
                 days, requirement=name),
        lines,
        ("progress.teacher", {"teacher_id": teacher_id}) if about_someone_else
        else ("progress.dashboard", {}),
        _("Open the teacher's progress") if about_someone_else
        else _("Open my progress"),
    )  # fmt: skip


def _department(p: Mapping[str, Any], fmt: Formatter) -> str:
    """The department's English name for an English reader, where one is set."""
    english = p.get("department_en") if fmt.locale.startswith("en") else None
    return english or p.get("department", "")


def _department_digest(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("Dual-qualified teachers: %(qualified)s of %(total)s professional-course "
          "teachers.", qualified=p.get("qualified", 0), total=p.get("total", 0)),
        _("Activities waiting for verification: %(num)s", num=p.get("waiting", 0)),
        _("Placements starting in the next 30 days: %(num)s",
          num=p.get("placements_starting", 0)),
        _("Teachers whose status lapses within 90 days: %(num)s",
          num=p.get("lapsing", 0)),
    ]  # fmt: skip
    return Content(
        _("Weekly digest: %(department)s", department=_department(p, fmt)),
        lines,
        ("progress.department", {}),
        _("Open the department dashboard"),
    )


def _feed_failed(p: Mapping[str, Any], fmt: Formatter) -> Content:
    lines = [
        _("Refreshing the calendar %(source)s failed at %(when)s.",
          source=p.get("source", ""), when=fmt.when(p.get("failed_at"))),
        _("Error: %(error)s", error=p.get("error", "")),
        _("The other feeds and jobs were not affected; the next refresh tries again."),
    ]  # fmt: skip
    return Content(
        _("Calendar feed refresh failed: %(source)s", source=p.get("source", "")),
        lines,
        None,
        "",
    )


def _password_reset(p: Mapping[str, Any], fmt: Formatter) -> Content:
    # The link is absolute (PUBLIC_BASE_URL or the host the request came to).
    lines = [
        _("Someone, hopefully you, asked for a link to set a new password."),
        _("Open this link before %(when)s to choose a new password: %(url)s",
          when=fmt.when(p.get("expires_at")), url=p.get("url", "")),
        _("The link works once. If you did not ask for it, ignore this e-mail:"
          " your password stays as it is."),
    ]  # fmt: skip
    return Content(_("Set a new password"), lines, None, "")


def _account_activation(p: Mapping[str, Any], fmt: Formatter) -> Content:
    # An imported account has no password yet; the link (absolute) chooses the first.
    lines = [
        _("An account has been created for you. Your login name is %(username)s.",
          username=p.get("username", "")),
        _("Open this link before %(when)s to choose your password: %(url)s",
          when=fmt.when(p.get("expires_at")), url=p.get("url", "")),
        _("The link works once. If it has expired, ask your college's administrator"
          " for a new one."),
    ]  # fmt: skip
    return Content(_("Activate your account"), lines, None, "")


COMPOSERS: dict[NotificationKind, Callable[[Mapping[str, Any], Formatter], Content]] = {
    K.EVENT_TOMORROW: _event_tomorrow,
    K.REGISTRATION_DEADLINE: _registration_deadline,
    K.PLACEMENT_STARTING: _placement_starting,
    K.PLACEMENT_REPORT_DUE: _placement_report_due,
    K.VERIFICATION_DIGEST: _verification_digest,
    K.LAPSE_WARNING: _lapse_warning,
    K.DEPARTMENT_DIGEST: _department_digest,
    K.FEED_FAILED: _feed_failed,
    K.PASSWORD_RESET: _password_reset,
    K.ACCOUNT_ACTIVATION: _account_activation,
    **OUTCOME_COMPOSERS,
}


def compose(notification: Notification, fmt: Formatter) -> Content:
    """The notification in words, in the current (possibly forced) locale."""
    payload = {
        **notification.payload,
        "object_id": notification.object_id,
        "recipient_id": notification.recipient_id,
    }
    return COMPOSERS[NotificationKind(notification.kind)](payload, fmt)


def formatter_for(user: User) -> Formatter:
    """A formatter in the user's language and zone."""
    return Formatter(user.locale, user.timezone)


@contextmanager
def recipient_context(user: User) -> Iterator[None]:
    """Translate and format for this user, whoever (if anyone) is signed in."""
    with force_locale(user.locale):
        babel_ctx = getattr(g, "_flask_babel", None)
        saved = getattr(babel_ctx, "babel_tzinfo", None)
        if babel_ctx is not None:
            babel_ctx.babel_tzinfo = ZoneInfo(user.timezone)
        try:
            yield
        finally:
            if babel_ctx is not None:
                babel_ctx.babel_tzinfo = saved


def link_for(link: tuple[str, dict[str, Any]] | None) -> str | None:
    """An absolute URL for the e-mail, if the page exists and a base URL is known."""
    config = current_app.config
    base = config.get("PUBLIC_BASE_URL") or (
        f"http://{config['SERVER_NAME']}" if config.get("SERVER_NAME") else None
    )
    if link is None or not base or link[0] not in current_app.view_functions:
        return None
    adapter = current_app.url_map.bind("localhost")
    try:
        path = adapter.build(link[0], link[1])
    except BuildError:  # the page needs values this notification lacks
        return None
    return base.rstrip("/") + path


def message_id(notification: Notification) -> str:
    """A Message-ID fixed per notification, so a retried e-mail is recognisably the same."""
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:16]
    domain = current_app.config.get("FEED_DOMAIN", "pdtracker.local")
    return f"<n{notification.id}.{digest}@{domain}>"


def render_email(notification: Notification, user: User) -> EmailMessage:
    """A multipart/alternative e-mail (text and HTML) in the recipient's language."""
    with recipient_context(user):
        fmt = formatter_for(user)
        content = compose(notification, fmt)
        context = {
            "user": user,
            "content": content,
            "link": link_for(content.link),
            "settings_link": link_for(("notifications.preferences", {})),
            "zone": user.timezone,
        }
        text = render_template("emails/message.txt", **context)
        html = render_template("emails/message.html", **context)
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((user.display_name, user.email or ""))
    message["Date"] = rfc2822_date(notification.due_at)
    message["Message-ID"] = message_id(notification)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    calendar = event_ics(
        notification.kind,
        notification.payload,
        url=link_for(content.link),
        name=str(notification.payload.get("title") or "pdtracker"),
        sender=current_app.config["MAIL_FROM"],
    )
    if calendar is not None:
        message.add_attachment(
            calendar, maintype="text", subtype="calendar", filename=ICS_FILENAME,
            params={"method": METHOD, "charset": "utf-8"},
        )  # fmt: skip
    return message


class Mailer:
    """One SMTP connection per dispatch, opened on the first message."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.enabled = bool(config.get("MAIL_SERVER"))
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Mailer:
        """A mailer for the app's MAIL_* settings (disabled without MAIL_SERVER)."""
        return cls(config)

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        host, port, timeout = c["MAIL_SERVER"], int(c["MAIL_PORT"]), c["MAIL_TIMEOUT"]
        if c.get("MAIL_USE_SSL"):
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if c.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
        if c.get("MAIL_USERNAME"):
            smtp.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message, reconnecting once if the server dropped us."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPException:
            self.close()  # the next message starts on a clean connection
            raise

    def close(self) -> None:
        """Say goodbye to the server, ignoring a connection already gone."""
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None
