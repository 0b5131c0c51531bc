"""Imported UIDs can never take the UIDs the app generates (issue 10, finding 2).

A calendar file is untrusted: a VEVENT claiming ``event-<n>@pdtracker.<domain>``
collided with the UID the app generates for event n (or for an imported override),
and the public feed answered 500 on every request from then on.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from pdtracker.events.models import Event
from pdtracker.extensions import db
from tests.calendar.feedkit import FeedKit, get, soon
from tests.events.test_views import FORM

PUBLIC = "/calendar/association.ics"


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def _vevent(uid: str, summary: str, start: datetime, *extra: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"SUMMARY:{summary}",
            f"DTSTART;TZID=Asia/Shanghai:{_stamp(start)}",
            f"DTEND;TZID=Asia/Shanghai:{_stamp(start + timedelta(hours=2))}",
            "DTSTAMP:20260101T000000Z",
            *extra,
            "END:VEVENT",
        ]
    )


def _calendar(*events: str) -> bytes:
    body = "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Hostile//EN", *events]
    )
    return (body + "\r\nEND:VCALENDAR\r\n").encode()


def _upload(client, data: bytes):
    return client.post(
        "/events/import",
        data={"file": (io.BytesIO(data), "assoc.ics"), "url": ""},
        content_type="multipart/form-data",
    )


def _uids(body: bytes) -> list[str]:
    cal = Calendar.from_ical(body)
    return [str(c["UID"]) for c in cal.walk("VEVENT")]


def test_forged_generated_uids_never_break_the_public_feed(
    app, client, auth, world
) -> None:
    kit = FeedKit(app)
    local = kit.event(title="本地讲座", rrule="FREQ=WEEKLY;COUNT=4")
    domain = app.config["FEED_DOMAIN"]
    auth.login("staff1")
    # A series with one moved occurrence: the override row gets a generated UID.
    first = soon(20)
    series = _calendar(
        _vevent(
            "series@assoc.example", "月度研讨", first, "RRULE:FREQ=MONTHLY;COUNT=3"
        ),
        _vevent(
            "series@assoc.example",
            "月度研讨（改期）",
            first + timedelta(days=31),
            f"RECURRENCE-ID;TZID=Asia/Shanghai:{_stamp(first + timedelta(days=30))}",
        ),
    )
    assert _upload(client, series).status_code == 200
    with app.app_context():
        override_id = db.session.scalar(
            select(Event.id).where(Event.recurrence_key != "")
        )
        next_id = db.session.scalar(select(Event.id).order_by(Event.id.desc())) + 1
    hostile = _calendar(
        # The UID the feed gives the imported override.
        _vevent(f"event-{override_id}@pdtracker.{domain}", "冒名一", soon(21)),
        # An "override" of the local event: would add an EXDATE to it.
        _vevent(
            f"event-{local.id}@pdtracker.{domain}",
            "冒名二",
            soon(22),
            f"RECURRENCE-ID;TZID=Asia/Shanghai:{_stamp(soon(17))}",
        ),
        # UIDs that events staff create later will get (any spelling).
        _vevent(f"event-{next_id + 5}@pdtracker.{domain}", "冒名三", soon(23)),
        _vevent(f"EVENT-{next_id + 6}@PDTRACKER.{domain.upper()}", "冒名四", soon(24)),
    )
    page = _upload(client, hostile)
    assert page.status_code == 200

    response = get(app, PUBLIC)
    assert response.status_code == 200
    uids = _uids(response.data)
    assert [u for u, n in Counter(uids).items() if n > 1] == []
    assert uids.count(local.uid) == 1
    assert local.uid == f"event-{local.id}@pdtracker.{domain}"  # never re-keyed
    local_vevent = next(
        c for c in Calendar.from_ical(response.data).walk("VEVENT")
        if str(c["UID"]) == local.uid
    )  # fmt: skip
    assert "EXDATE" not in local_vevent
    assert "冒名" not in response.data.decode()

    # Staff can still create events whose generated UID was claimed by the file.
    for _ in range(7):
        created = client.post(
            "/events/new",
            data=FORM,
        )
        assert created.status_code == 302
