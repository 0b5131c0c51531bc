"""Calendar import into the events table: idempotent by UID, bounded, reported."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pdtracker.events.import_fields import default_hours, guess_kind
from pdtracker.events.importing import import_file, import_url
from pdtracker.events.models import Event, ImportSource
from pdtracker.events.services import EventData, create_event
from pdtracker.extensions import db

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LATER = datetime(2026, 3, 2, tzinfo=UTC)


def vevent(uid: str, summary: str, **props: str) -> str:
    """One VEVENT; floating times unless told otherwise."""
    props.setdefault("DTSTART", "20300410T090000")
    props.setdefault("DTEND", "20300410T110000")
    props.setdefault("DTSTAMP", "20260101T000000Z")
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}"]
    lines += [f"{k.replace('_', '-')}{'' if ':' in v or ';' in k else ':'}{v}"
              for k, v in props.items()]  # fmt: skip
    return "\r\n".join([*lines, "END:VEVENT"]) + "\r\n"


def calendar(*events: str, head: str = "") -> str:
    """A VCALENDAR around the given events."""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Association//Test//ZH\r\n"
        + head
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


THREE = calendar(
    vevent("a@assoc.example", "人工智能赋能职业教育专家讲座"),
    vevent("b@assoc.example", "2030 智能制造产业大会", DTSTART=";VALUE=DATE:20300420",
           DTEND=";VALUE=DATE:20300423"),
    vevent("c@assoc.example", "双师型教师座谈研讨", DTSTART="20300412T060000Z",
           DTEND="20300412T080000Z", LOCATION="学术报告厅"),
)  # fmt: skip


def _import(app, text: str | bytes, now: datetime = NOW):
    data = text.encode("utf-8") if isinstance(text, str) else text
    with app.app_context():
        report = import_file(data, "assoc.ics", None, now)
        db.session.commit()
        return report


def _events(app) -> dict[str, Event]:
    with app.app_context():
        rows = db.session.scalars(select(Event)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.uid: row for row in rows}


def test_import_creates_published_events_with_kinds_and_times(app) -> None:
    report = _import(app, THREE)
    assert (report.created, report.updated, report.unchanged, report.skipped) == (
        3,
        0,
        0,
        [],
    )
    events = _events(app)
    lecture, conference, seminar = (events[f"{k}@assoc.example"] for k in "abc")
    assert lecture.status == conference.status == "published"
    assert (lecture.kind_code, conference.kind_code, seminar.kind_code) == (
        "expert_lecture",
        "industry_conference",
        "seminar",
    )
    # Floating times are read as Asia/Shanghai.
    assert lecture.starts_at == datetime(2030, 4, 10, 1, tzinfo=UTC)
    assert lecture.tzid == "Asia/Shanghai"
    assert lecture.credited_hours == Decimal("2")
    assert conference.is_all_day
    assert (conference.start_on, conference.end_on) == (
        date(2030, 4, 20),
        date(2030, 4, 23),
    )
    assert conference.credited_hours == Decimal("18")
    assert seminar.location == "学术报告厅"
    assert lecture.import_source_id is not None
    assert lecture.fingerprint


def test_same_file_twice_changes_nothing(app, table_counts) -> None:
    _import(app, THREE)
    before, rows = table_counts(), _events(app)
    # DTSTAMP is "now" in Indico-style exports: not a change.
    restamped = THREE.replace("DTSTAMP:20260101T000000Z", "DTSTAMP:20260301T101010Z")
    report = _import(app, restamped, LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    after = table_counts()
    assert {k: v for k, v in after.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }
    assert {u: (e.updated_at, e.sequence) for u, e in _events(app).items()} == {
        u: (e.updated_at, e.sequence) for u, e in rows.items()
    }


def test_changed_event_is_updated_in_place(app) -> None:
    _import(app, THREE)
    first = _events(app)["a@assoc.example"]
    changed = THREE.replace(
        "人工智能赋能职业教育专家讲座", "人工智能赋能职业教育专家讲座（改期）"
    )
    changed = changed.replace("20300410T090000", "20300411T090000")
    changed = changed.replace("20300410T110000", "20300411T110000")
    report = _import(app, changed, LATER)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    after = _events(app)
    assert len(after) == 3
    row = after["a@assoc.example"]
    assert row.id == first.id
    assert row.title.endswith("（改期）")
    assert row.starts_at == datetime(2030, 4, 11, 1, tzinfo=UTC)
    assert (row.sequence, row.updated_at) == (1, LATER)


def test_staff_choices_survive_a_reimport(app) -> None:
    _import(app, THREE)
    with app.app_context():
        row = db.session.scalar(select(Event).where(Event.uid == "a@assoc.example"))
        row.capacity, row.credited_hours, row.kind_code = 30, Decimal("4"), "seminar"
        db.session.commit()
    _import(app, THREE.replace("专家讲座", "专家讲座（新）"), LATER)
    row = _events(app)["a@assoc.example"]
    assert (row.capacity, row.credited_hours, row.kind_code) == (
        30,
        Decimal("4"),
        "seminar",
    )
    assert row.title.endswith("（新）")


def test_cancelled_in_source_cancels_and_bumps_sequence(app) -> None:
    _import(app, THREE)
    cancelled = THREE.replace(
        "SUMMARY:双师型教师座谈研讨", "SUMMARY:双师型教师座谈研讨\r\nSTATUS:CANCELLED"
    )
    report = _import(app, cancelled, LATER)
    assert report.updated == 1
    row = _events(app)["c@assoc.example"]
    assert (row.status, row.cancelled_at, row.sequence) == ("cancelled", LATER, 1)


def test_gb18030_file(app) -> None:
    text = calendar(vevent("gbk@assoc.example", "学术会议：职业教育产教融合论坛",
                           LOCATION="北京国家会议中心"))  # fmt: skip
    report = _import(app, text.encode("gb18030"))
    assert report.created == 1
    row = _events(app)["gbk@assoc.example"]
    assert row.title == "学术会议：职业教育产教融合论坛"
    assert row.location == "北京国家会议中心"


def test_broken_event_is_skipped_with_a_reason(app) -> None:
    text = calendar(
        vevent("good1@x", "讲座一"),
        vevent("broken@x", "坏的讲座", DTSTART="2030041"),
        vevent("good2@x", "讲座二"),
    )
    report = _import(app, text)
    assert report.created == 2
    assert [(s.uid, s.reason) for s in report.skipped] == [("broken@x", "bad_dtstart")]
    assert set(_events(app)) == {"good1@x", "good2@x"}


def test_not_a_calendar_is_refused_whole(app, table_counts) -> None:
    report = _import(app, b"<html>not a calendar</html>")
    assert report.error == "not_a_calendar"
    assert table_counts()["events"] == 0


def test_oversize_file_is_refused(app) -> None:
    app.config["IMPORT_MAX_BYTES"] = 1000
    report = _import(app, THREE + " " * 1000)
    assert report.error == "too_large"


def test_outlook_style_windows_zone(app) -> None:
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:China Standard Time\r\nBEGIN:STANDARD\r\n"
        "DTSTART:16010101T000000\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    text = calendar(
        vevent("outlook@x", "企业数字化转型专家讲座",
               DTSTART=';TZID="China Standard Time":20300415T140000',
               DTEND=';TZID="China Standard Time":20300415T163000'),
        head=zone,
    )  # fmt: skip
    assert _import(app, text).created == 1
    row = _events(app)["outlook@x"]
    assert row.starts_at == datetime(2030, 4, 15, 6, tzinfo=UTC)
    assert row.tzid == "Asia/Shanghai"
    assert row.credited_hours == Decimal("2.5")


def test_recurring_event_until_stored_in_utc(app) -> None:
    text = calendar(
        vevent("weekly@x", "每周教研研讨", RRULE="FREQ=WEEKLY;UNTIL=20300529T090000",
               EXDATE="20300424T090000"),
    )  # fmt: skip
    assert _import(app, text).created == 1
    row = _events(app)["weekly@x"]
    assert row.rrule == "FREQ=WEEKLY;UNTIL=20300529T010000Z"
    assert row.exdates == ["2030-04-24T01:00:00+00:00"]
    assert row.series_ends_at == datetime(2030, 5, 29, 3, tzinfo=UTC)


def test_recurrence_override_is_its_own_row(app) -> None:
    text = calendar(
        vevent("series@x", "月度研讨", RRULE="FREQ=MONTHLY;COUNT=3"),
        vevent("series@x", "月度研讨（改地点）", RECURRENCE_ID="20300510T090000",
               DTSTART="20300511T090000", DTEND="20300511T110000"),
    )  # fmt: skip
    assert _import(app, text).created == 2
    assert _import(app, text).unchanged == 2
    with app.app_context():
        keys = db.session.execute(select(Event.uid, Event.recurrence_key)).all()
    assert sorted(k for _, k in keys) == ["", "2030-05-10T01:00:00+00:00"]


def test_uid_of_a_local_event_is_not_overwritten(app) -> None:
    with app.app_context():
        local = create_event(
            EventData(kind_code="seminar", title="本地活动",
                      starts_at=NOW, ends_at=NOW),
            None, NOW,
        )  # fmt: skip
        db.session.commit()
        uid = local.uid
    report = _import(app, calendar(vevent(uid, "冒名")))
    assert [(s.uid, s.reason) for s in report.skipped] == [(uid, "local_uid")]
    assert _events(app)[uid].title == "本地活动"


@pytest.mark.parametrize(
    ("summary", "categories", "kind"),
    [
        ("专家讲座", (), "expert_lecture"),
        ("行业年会暨高峰论坛", (), "industry_conference"),
        ("Industry Conference 2030", (), "industry_conference"),
        ("青年教师座谈会", (), "seminar"),
        ("Teaching seminar", (), "seminar"),
        ("报告", ("研讨",), "seminar"),
    ],
)
def test_guess_kind(summary: str, categories: tuple, kind: str) -> None:
    assert guess_kind(summary, categories) == kind


def test_long_timed_conference_hours_are_capped_per_day() -> None:
    from pdtracker.calendar.ics_import import parse_calendar

    text = calendar(vevent("indico-event-1@x", "Conference",
                           DTSTART="20300420T000000Z", DTEND="20300424T083000Z"))  # fmt: skip
    item = parse_calendar(text.encode()).events[0]
    assert default_hours(item, "Asia/Shanghai") == Decimal("30")


# --- the command ------------------------------------------------------------------


def test_cli_json_report(app, runner, tmp_path) -> None:
    path = tmp_path / "assoc.ics"
    path.write_text(
        THREE.replace("DTSTART:2030041", "DTSTART:2030041"), encoding="utf-8"
    )
    result = runner.invoke(args=["events", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {k: report[k] for k in ("created", "updated", "unchanged", "skipped")} == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    assert all(
        type(report[k]) is int for k in ("created", "updated", "unchanged", "skipped")
    )
    assert report["reasons"] == []
    again = json.loads(
        runner.invoke(args=["events", "import", str(path), "--json"]).output
    )
    assert (again["created"], again["unchanged"]) == (0, 3)


def test_cli_text_report_and_reasons(app, runner, tmp_path) -> None:
    path = tmp_path / "broken.ics"
    path.write_text(
        calendar(vevent("ok@x", "讲座"), vevent("bad@x", "坏", DTSTART="x"))
    )
    result = runner.invoke(args=["events", "import", str(path)])
    assert result.exit_code == 0
    assert "created: 1" in result.output
    assert "skipped bad@x: bad_dtstart" in result.output
    as_json = runner.invoke(args=["events", "import", str(path), "--json"])
    report = json.loads(as_json.output)
    assert report["skipped"] == 1
    assert report["reasons"][0]["uid"] == "bad@x"
    assert report["reasons"][0]["reason"] == "bad_dtstart"


def test_cli_fails_on_a_bad_file(app, runner, tmp_path) -> None:
    path = tmp_path / "x.ics"
    path.write_bytes(b"hello")
    result = runner.invoke(args=["events", "import", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"] == "not_a_calendar"
    missing = runner.invoke(args=["events", "import", str(tmp_path / "nope.ics")])
    assert missing.exit_code != 0


# --- URLs -------------------------------------------------------------------------


def test_url_import_with_conditional_get(app, httpserver) -> None:
    body = THREE.encode()
    headers = {"ETag": '"v1"', "Last-Modified": "Sun, 01 Mar 2026 00:00:00 GMT"}
    httpserver.expect_ordered_request("/assoc.ics").respond_with_data(
        body, content_type="text/calendar", headers=headers
    )
    httpserver.expect_ordered_request(
        "/assoc.ics", headers={"If-None-Match": '"v1"'}
    ).respond_with_data(b"", status=304, headers=headers)
    url = httpserver.url_for("/assoc.ics")
    with app.app_context():
        first = import_url(url, None, NOW, allow_private=True)
        db.session.commit()
        second = import_url(url, None, LATER, allow_private=True)
        db.session.commit()
        source = db.session.scalars(select(ImportSource)).one()
        assert (source.kind, source.url, source.etag) == ("url", url, '"v1"')
        assert source.last_fetched_at == LATER
        assert db.session.scalar(select(func.count()).select_from(Event)) == 3
    assert (first.created, first.error) == (3, None)
    assert (second.not_modified, second.unchanged, second.created) == (True, 3, 0)
    httpserver.check_assertions()


def test_cli_url_import_needs_allow_private(app, runner, httpserver) -> None:
    httpserver.expect_request("/assoc.ics").respond_with_data(THREE.encode())
    url = httpserver.url_for("/assoc.ics")
    refused = runner.invoke(args=["events", "import", url, "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.output)["error"] in ("bad_scheme", "blocked_address")
    allowed = runner.invoke(args=["events", "import", url, "--json", "--allow-private"])
    assert json.loads(allowed.output)["created"] == 3


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1:9/assoc.ics", "https://localhost/x.ics", "webcal://[::1]/a"],
)
def test_loopback_url_is_refused_without_permission(app, url: str) -> None:
    with app.app_context():
        report = import_url(url, None, NOW)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ImportSource)) == 0
    assert report.error == "blocked_address"


# --- the page ---------------------------------------------------------------------


def test_import_page_upload_shows_the_report(app, client, auth, world) -> None:
    import io

    auth.login("staff1")
    page = client.get("/events/import")
    assert page.status_code == 200
    assert 'name="allow_private"' not in page.text  # only admins may allow it
    text = calendar(vevent("ok@x", "讲座"), vevent("bad@x", "坏的讲座", DTSTART="x"))
    response = client.post(
        "/events/import",
        data={"file": (io.BytesIO(text.encode()), "assoc.ics"), "url": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert 'id="import-report"' in response.text
    assert "坏的讲座" in response.text
    assert len(_events(app)) == 1


def test_import_page_needs_exactly_one_of_file_and_url(client, auth, world) -> None:
    auth.login("staff1")
    response = client.post("/events/import", data={"url": ""})
    assert 'id="import-report"' not in response.text
    assert "is-invalid" in response.text


def test_import_page_refuses_loopback_for_staff_allows_for_admin(
    app, client, auth, world, httpserver
) -> None:
    httpserver.expect_request("/assoc.ics").respond_with_data(THREE.encode())
    url = httpserver.url_for("/assoc.ics")
    auth.login("staff1")
    # A staff member cannot smuggle the admin's checkbox in.
    response = client.post("/events/import", data={"url": url, "allow_private": "y"})
    assert 'id="import-report"' in response.text
    assert len(_events(app)) == 0
    auth.logout()
    auth.login("admin")
    assert 'name="allow_private"' in client.get("/events/import").text
    client.post("/events/import", data={"url": url, "allow_private": "y"})
    assert len(_events(app)) == 3


def test_refresh_url_source_remembers_the_admins_permission(app, httpserver) -> None:
    from pdtracker.events.importing import ImportFailed, refresh_url_source

    httpserver.expect_request("/assoc.ics").respond_with_data(THREE.encode())
    url = httpserver.url_for("/assoc.ics")
    with app.app_context():
        import_url(url, None, NOW, allow_private=True)
        db.session.commit()
        source = db.session.scalars(select(ImportSource)).one()
        assert source.allow_private
        report = refresh_url_source(source, LATER)
        db.session.commit()
        assert (report.created, report.unchanged) == (0, 3)
        source.allow_private = False
        with pytest.raises(ImportFailed) as exc:
            refresh_url_source(source, LATER)
        assert exc.value.code == "bad_scheme"  # plain http to 127.0.0.1 is not allowed
        db.session.rollback()
