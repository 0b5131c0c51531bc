"""Event pages: staff editing, teachers' browsing and registration, access, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from pdtracker.activities.models import Activity
from pdtracker.auth.models import Role
from pdtracker.events.models import Event, Registration
from pdtracker.extensions import db
from tests.events.conftest import soon
from tests.factories import COLLEGES

FORM = {
    "kind_code": "industry_conference",
    "title": "2026 智能制造产教融合大会",
    "description": "大会议程\n第二行",
    "speakers": "王教授",
    "location": "杭州国际博览中心",
    "online_url": "",
    "tzid": "Asia/Shanghai",
    "start_date": "2030-04-20",
    "start_time": "09:00",
    "end_date": "2030-04-20",
    "end_time": "17:00",
    "capacity": "50",
    "registration_deadline": "2030-04-18T18:00",
    "credited_hours": "6",
    "repeat": "",
    "exdates": "",
}


def _event(app, event_id: int) -> Event:
    with app.app_context():
        event = db.session.get(Event, event_id)
        db.session.expunge(event)
        return event


def test_staff_creates_edits_publishes_and_cancels(app, client, auth, world) -> None:
    auth.login("staff1")
    response = client.post("/events/new", data=FORM)
    assert response.status_code == 302
    with app.app_context():
        event_id = db.session.scalar(select(Event.id))
    event = _event(app, event_id)
    assert event.status == "draft"
    assert event.starts_at == datetime(2030, 4, 20, 1, tzinfo=UTC)
    assert event.ends_at == datetime(2030, 4, 20, 9, tzinfo=UTC)
    assert event.registration_deadline == datetime(2030, 4, 18, 10, tzinfo=UTC)
    assert (event.capacity, event.credited_hours) == (50, Decimal("6"))

    edit_page = client.get(f"/events/{event_id}/edit")
    assert "杭州国际博览中心" in edit_page.text
    assert 'value="09:00"' in edit_page.text

    assert client.post(f"/events/{event_id}/publish").status_code == 302
    assert _event(app, event_id).status == "published"
    client.post(f"/events/{event_id}/edit", data={**FORM, "location": "线上"})
    event = _event(app, event_id)
    assert (event.location, event.sequence) == ("线上", 1)
    client.post(f"/events/{event_id}/cancel")
    event = _event(app, event_id)
    assert (event.status, event.sequence) == ("cancelled", 2)
    assert event.cancelled_at is not None
    # A cancelled event can no longer be edited.
    client.post(f"/events/{event_id}/edit", data={**FORM, "title": "改"})
    assert _event(app, event_id).title == FORM["title"]
    manage = client.get("/events/manage")
    assert FORM["title"] in manage.text


def test_all_day_multi_day_event_from_the_form(app, client, auth, world) -> None:
    auth.login("staff1")
    data = {**FORM, "is_all_day": "y", "start_time": "", "end_time": "",
            "end_date": "2030-04-22", "registration_deadline": ""}  # fmt: skip
    assert client.post("/events/new", data=data).status_code == 302
    with app.app_context():
        event = db.session.scalars(select(Event)).one()
        assert (str(event.start_on), str(event.end_on)) == ("2030-04-20", "2030-04-23")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_date": "2030-04-19"}, "end_date", "The end is before the start."),
        ({"end_time": "08:00"}, "end_time", "The end is before the start."),
        ({"start_time": ""}, "start_time", "Give a time, or tick all-day."),
        (
            {"repeat": "weekly", "ends": "count"},
            "count",
            "Give the number of sessions.",
        ),
        (
            {"repeat": "weekly", "ends": "until", "until": "2030-04-01"},
            "until",
            "The last date is before the start.",
        ),
        (
            {"repeat": "weekly", "count": "3", "exdates": "2030-13-01"},
            "exdates",
            "is not a date",
        ),
        ({"exdates": "2030-04-27"}, "exdates", "Only a repeating event skips dates."),
        ({"capacity": "0"}, "capacity", ""),
        ({"online_url": "javascript:alert(1)"}, "online_url", ""),
        ({"registration_deadline": "2030-05-01T00:00"}, "registration_deadline", ""),
    ],
)
def test_form_rejects_bad_input(
    app, client, auth, world, changes, field, message
) -> None:
    auth.login("staff1")
    with app.app_context():
        from pdtracker.auth.models import User

        db.session.get(User, world["staff1"].id).locale = "en"
        db.session.commit()
    response = client.post("/events/new", data={**FORM, **changes})
    assert response.status_code == 200
    assert f'id="row-{field}"' in response.text
    assert "is-invalid" in response.text
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_recurring_event_from_the_form(app, client, auth, world) -> None:
    auth.login("staff1")
    data = {**FORM, "repeat": "weekly", "ends": "until", "until": "2030-06-01",
            "exdates": "2030-05-04"}  # fmt: skip
    assert client.post("/events/new", data=data).status_code == 302
    with app.app_context():
        event = db.session.scalars(select(Event)).one()
        # 2030-04-20 is a Saturday: weekly on the start's weekday by default.
        assert event.rrule == "FREQ=WEEKLY;BYDAY=SA;UNTIL=20300601T155959Z"
        assert event.exdates == ["2030-05-04T01:00:00+00:00"]
        assert event.series_ends_at == datetime(2030, 6, 1, 9, tzinfo=UTC)


def test_preview_lists_the_sessions_and_keeps_what_was_typed(
    app, client, auth, world
) -> None:
    auth.login("staff1")
    data = {**FORM, "repeat": "weekly", "weekdays": ["2", "5"], "ends": "count",
            "count": "4", "exdates": "2030-04-24", "preview": "1"}  # fmt: skip
    response = client.post("/events/new", data=data)
    assert response.status_code == 200
    preview = response.text.split('id="preview"')[1]
    assert preview.count("<li>") == 3  # four, one skipped
    assert "2030" in preview
    assert 'value="2" checked' in response.text  # Wednesday stays ticked
    assert 'value="4"' in response.text  # the count typed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_rule_the_form_cannot_show_is_kept_read_only(
    app, client, auth, world, make_event
) -> None:
    rule = "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1;COUNT=3"
    event = make_event(starts_at=datetime(2030, 4, 1, 1, tzinfo=UTC), rrule=rule)
    auth.login("staff1")
    page = client.get(f"/events/{event.id}/edit")
    assert rule in page.text
    kept = page.text.split('id="kept-sessions"')[1]
    assert kept.count("<li>") == 3
    form = {**FORM, "start_date": "2030-04-01", "end_date": "2030-04-01",
            "registration_deadline": "", "repeat": "keep", "title": "改名"}  # fmt: skip
    assert client.post(f"/events/{event.id}/edit", data=form).status_code == 302
    with app.app_context():
        saved = db.session.get_one(Event, event.id)
        assert (saved.title, saved.rrule) == ("改名", rule)


def test_teacher_browses_published_events_upcoming_first(
    client, auth, world, make_event
) -> None:
    make_event(title="草稿讲座", publish=False)
    later = make_event(title="后面的讲座", starts_at=soon(20))
    sooner = make_event(title="前面的研讨", kind_code="seminar", starts_at=soon(5))
    past = make_event(title="过去的会议", kind_code="industry_conference",
                      starts_at=soon(-30))  # fmt: skip
    auth.login("teacher1")
    page = client.get("/events/").text
    assert "草稿讲座" not in page
    positions = [page.index(e.title) for e in (sooner, later, past)]
    assert positions == sorted(positions)
    only_seminars = client.get("/events/?kind=seminar").text
    assert "前面的研讨" in only_seminars
    assert "后面的讲座" not in only_seminars
    month = soon(-30).astimezone().strftime("%Y-%m")
    by_month = client.get(f"/events/?month={month}").text
    assert "过去的会议" in by_month
    assert "后面的讲座" not in by_month
    assert client.get("/events/?month=garbage").status_code == 200


def test_draft_is_404_for_teachers(client, auth, world, make_event) -> None:
    draft = make_event(publish=False)
    auth.login("teacher1")
    assert client.get(f"/events/{draft.id}").status_code == 404
    assert client.post(f"/events/{draft.id}/register").status_code == 404


def test_teacher_registers_and_cancels(app, client, auth, world, make_event) -> None:
    event = make_event(capacity=1)
    auth.login("teacher1")
    response = client.post(f"/events/{event.id}/register", follow_redirects=True)
    assert response.status_code == 200
    assert "Registered" in response.text or "已报名" in response.text
    auth.logout()
    auth.login("teacher2")
    client.post(f"/events/{event.id}/register")
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(Registration.teacher_id, Registration.status)
            ).all()
        )
    assert statuses == {
        world["teacher1"].id: "registered",
        world["teacher2"].id: "waitlisted",
    }
    auth.logout()
    auth.login("teacher1")
    client.post(f"/events/{event.id}/unregister")
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(Registration.teacher_id, Registration.status)
            ).all()
        )
    assert statuses == {
        world["teacher1"].id: "cancelled",
        world["teacher2"].id: "registered",
    }


def test_teacher_cannot_cancel_another_teachers_registration(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event()
    registered(world["teacher1"], event)
    auth.login("teacher2")
    client.post(f"/events/{event.id}/unregister")
    with app.app_context():
        assert db.session.scalar(select(Registration.status)) == "registered"


def test_registration_after_deadline_is_refused(
    app, client, auth, world, make_event
) -> None:
    event = make_event(registration_deadline=soon(-1))
    auth.login("teacher1")
    client.post(f"/events/{event.id}/register")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


STAFF_ROUTES = [
    ("get", "/events/manage"),
    ("get", "/events/new"),
    ("get", "/events/{id}/edit"),
    ("post", "/events/{id}/publish"),
    ("post", "/events/{id}/cancel"),
    ("get", "/events/{id}/registrations"),
    ("get", "/events/{id}/registrations.csv"),
    ("get", "/events/{id}/registrations.xlsx"),
    ("post", "/events/{id}/attend-all"),
    ("get", "/events/import"),
    ("get", "/events/{id}/delete"),
    ("post", "/events/{id}/delete"),
]


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
@pytest.mark.parametrize("user", ["teacher1", "head1"])
def test_staff_routes_forbidden(
    client, auth, world, make_event, method, path, user
) -> None:
    event = make_event()
    auth.login(user)
    response = getattr(client, method)(path.format(id=event.id))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), [*STAFF_ROUTES, ("get", "/events/")])
def test_anonymous_goes_to_login(client, world, make_event, method, path) -> None:
    event = make_event()
    response = getattr(client, method)(path.format(id=event.id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_head_browses_but_cannot_register(client, auth, make_user, make_event) -> None:
    make_user("headonly", Role.HEAD)
    event = make_event()
    auth.login("headonly")
    assert client.get("/events/").status_code == 200
    page = client.get(f"/events/{event.id}")
    assert page.status_code == 200
    assert f"/events/{event.id}/register" not in page.text
    assert client.post(f"/events/{event.id}/register").status_code == 403


def test_attendance_through_the_page_credits_once(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(starts_at=soon(-1), credited_hours=Decimal("3"))
    reg = registered(world["teacher1"], event)
    auth.login("staff1")
    url = f"/events/{event.id}/registrations/{reg.id}/attend"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    client.post(f"/events/{event.id}/attend-all")
    with app.app_context():
        activities = db.session.scalars(select(Activity)).all()
        assert len(activities) == 1
        assert activities[0].status == "verified"
        assert activities[0].verified_by_id == world["staff1"].id
    assert client.post(f"/events/999/registrations/{reg.id}/attend").status_code == 404


def test_registrations_export_csv_and_xlsx(
    app, client, auth, world, make_event, registered
) -> None:
    event = make_event(capacity=1)
    registered(world["teacher1"], event)
    registered(world["teacher2"], event, datetime(2020, 1, 3, tzinfo=UTC))
    auth.login("staff1")
    page = client.get(f"/events/{event.id}/registrations")
    assert "teacher1" in page.text

    assert f'href="/checkin/events/{event.id}"' in page.text  # the door's screens
    response = client.get(f"/events/{event.id}/registrations.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert rows[0][4:6] == ["院系", "学院"]
    assert rows[1][2:6] == [
        "teacher1", "S-teacher1", "人工智能技术应用系", COLLEGES["DEMO"],
    ]  # fmt: skip
    assert rows[2][2] == "teacher2"
    assert rows[1][7] == "2020-01-02 08:00"  # shown in Asia/Shanghai
    assert COLLEGES["DEMO"] in page.text  # the staff's list names the college too

    response = client.get(f"/events/{event.id}/registrations.xlsx")
    book = load_workbook(io.BytesIO(response.data))
    values = list(book.active.iter_rows(values_only=True))
    assert values[0][0] == event.title
    assert [v[2] for v in values[2:]] == ["teacher1", "teacher2"]
    assert values[2][7] == datetime(2020, 1, 2, 8, 0)


def test_event_list_query_count_is_bounded(
    client, auth, world, make_event, count_queries
) -> None:
    auth.login("teacher1")
    make_event(title="第一场")
    with count_queries() as one:
        assert client.get("/events/").status_code == 200
    for i in range(25):
        make_event(title=f"讲座{i}", capacity=10)
    with count_queries() as many:
        assert client.get("/events/").status_code == 200
    assert many.count == one.count


def test_manage_and_registrations_query_counts(
    client, auth, world, make_event, registered, count_queries
) -> None:
    event = make_event()
    registered(world["teacher1"], event)
    auth.login("staff1")
    with count_queries() as few:
        client.get("/events/manage")
        client.get(f"/events/{event.id}/registrations")
    for i in range(5):
        make_event(title=f"讲座{i}")
    registered(world["teacher2"], event)
    registered(world["head1"], event)
    with count_queries() as more:
        client.get("/events/manage")
        client.get(f"/events/{event.id}/registrations")
    assert more.count == few.count


def test_detail_shows_waitlist_place_and_cancellation(
    app, client, auth, world, make_event, registered
) -> None:
    from pdtracker.auth.models import User

    event = make_event(capacity=1)
    registered(world["teacher2"], event)
    registered(world["teacher1"], event, datetime(2020, 1, 3, tzinfo=UTC))
    with app.app_context():
        db.session.get(User, world["teacher1"].id).locale = "en"
        db.session.commit()
    auth.login("teacher1")
    page = client.get(f"/events/{event.id}").text
    assert "place 1 on the waiting list" in page
    assert "Full · 1 on the waiting list" in page
    auth.logout()
    auth.login("staff1")
    client.post(f"/events/{event.id}/cancel")
    auth.logout()
    auth.login("teacher1")
    page = client.get(f"/events/{event.id}").text
    assert "Cancelled" in page
    assert f"/events/{event.id}/register" not in page
    # A cancelled event is no longer listed, but its page stays reachable.
    assert event.title not in client.get("/events/").text


def test_event_times_show_hours_and_minutes_once_per_day(
    app, client, auth, world, make_event
) -> None:
    # 01:00-03:30 UTC is 09:00-11:30 in Shanghai, the teacher's zone: one day.
    start = datetime(2031, 5, 6, 1, 0, tzinfo=UTC)
    same_day = make_event(starts_at=start, ends_at=start.replace(hour=3, minute=30))
    two_days = make_event(starts_at=start, ends_at=start.replace(day=7))
    auth.login("teacher1")
    page = client.get(f"/events/{same_day.id}").text
    assert "2031年5月6日 09:00 – 11:30" in page
    assert "09:00:00" not in page
    page = client.get(f"/events/{two_days.id}").text
    assert "2031年5月6日 09:00 – 2031年5月7日 09:00" in page


def test_event_page_leads_staff_back_to_managing_and_teachers_to_the_list(
    client, auth, world, make_event
) -> None:
    event = make_event()
    auth.login("staff1")
    page = client.get(f"/events/{event.id}").text
    assert 'href="/events/manage"' in page
    assert f'href="/events/{event.id}/registrations"' in page
    auth.logout()
    auth.login("teacher1")
    page = client.get(f"/events/{event.id}").text
    assert 'href="/events/"' in page
    assert "/events/manage" not in page
