"""The app's real feeds, built from the database, read by the parsers clients use.

Every feed (teacher, department, public) goes through icalendar +
recurring-ical-events, allenporter ``ical``, vobject, libical, ical.js and node-ical;
all must report no problem and the same normalised events (UID, start, end,
all-day, status, summary). Then the details docs/calendar-feeds.md asks for are checked on the
bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from icalendar import Calendar

from pdtracker.calendar.ics import feed_uid
from pdtracker.calendar.models import FeedScope
from pdtracker.events.models import Event
from pdtracker.timeutil import SHANGHAI, utcnow
from tests.calendar.conftest import PARSERS
from tests.calendar.feedkit import FeedKit, get, soon, window_dates

LECTURE = "讲座：智能制造与课程改革，第1讲；主讲 王教授, AI; C:\\课件 🎓"
LECTURE_TEXT = (
    "本次讲座介绍智能制造在职业院校专业建设中的应用，包括：课程设计、实训基地、"
    "产教融合等内容。\n请提前 10 分钟到场; 携带笔记本电脑。"
)
NOTES = "私人备注：家中有事，需要调整"
TASKS = "任务：产线调试与工艺优化"
MENTOR_MAIL = "mentor.li@corp.example.com"
PUBLIC = "/calendar/association.ics"


@dataclass
class Scene:
    """What the feeds are built from."""

    kit: FeedKit
    world: dict
    events: dict
    placements: dict
    activities: dict

    def uid(self, kind: str, pk: int) -> str:
        return feed_uid(kind, pk, self.kit.app.config["FEED_DOMAIN"])


@pytest.fixture
def scene(app, world) -> Scene:
    """Events, registrations, placements and activities of two teachers."""
    kit = FeedKit(app)
    t1, t2 = world["teacher1"], world["teacher2"]
    today = utcnow().astimezone(SHANGHAI).date()
    seminar_start = soon(7, 14)
    events = {
        "lecture": kit.event(
            title=LECTURE, description=LECTURE_TEXT, speakers="王教授",
            location="实训楼 301; 线上", starts_at=soon(9, 9),
            ends_at=soon(9, 11) + timedelta(minutes=30),
        ),
        "conference": kit.event(
            kind_code="industry_conference", title="全国职业教育产教融合大会",
            is_all_day=True, start_on=today + timedelta(days=15),
            end_on=today + timedelta(days=18),
        ),
        "seminar": kit.event(
            kind_code="seminar", title="每周教研研讨", starts_at=seminar_start,
            ends_at=seminar_start + timedelta(hours=2), rrule="FREQ=WEEKLY;COUNT=6",
            exdates=[(seminar_start + timedelta(days=14)).astimezone(UTC).isoformat()],
        ),
        "cancelled": kit.event(title="课程思政研讨（取消）", starts_at=soon(11)),
        "full": kit.event(title="名额有限的工作坊", starts_at=soon(12), capacity=1),
        "draft": kit.event(title="草稿活动", publish=False, starts_at=soon(13)),
        "unregistered": kit.event(title="无人报名的讲座", starts_at=soon(14)),
    }  # fmt: skip
    for key in ("lecture", "conference", "seminar", "cancelled"):
        kit.register(t1, events[key])
    kit.register(t2, events["conference"])
    kit.register(t2, events["full"])
    kit.register(t1, events["full"])  # waitlisted
    kit.cancel_event(events["cancelled"])
    with app.app_context():
        from pdtracker.extensions import db

        events = {k: db.session.get(Event, e.id) for k, e in events.items()}
        for e in events.values():
            db.session.expunge(e)
    huawei = kit.enterprise()
    byd = kit.enterprise("比亚迪股份有限公司", city="深圳")
    placements = {
        "approved": kit.placement(
            t1, huawei, starts_on=today + timedelta(days=21),
            ends_on=today + timedelta(days=48), notes=NOTES, tasks=TASKS,
            mentor_name="李工", mentor_contact=MENTOR_MAIL,
        ),
        "proposed": kit.placement(
            t1, byd, status="proposed", starts_on=today + timedelta(days=100),
            ends_on=today + timedelta(days=110),
        ),
        "cancelled": kit.placement(
            t1, byd, status="cancelled", starts_on=today + timedelta(days=60),
            ends_on=today + timedelta(days=64),
        ),
        "teacher2": kit.placement(
            t2, huawei, notes=NOTES, mentor_contact=MENTOR_MAIL,
            starts_on=today + timedelta(days=30), ends_on=today + timedelta(days=40),
        ),
    }  # fmt: skip
    activities = {
        "timed": kit.activity(
            t1, title="企业技术交流", starts_on=today + timedelta(days=4),
            start_time=time(14, 0), end_time=time(16, 30), location="实训中心",
        ),
        "span": kit.activity(
            t1, title="骨干教师培训", starts_on=today + timedelta(days=25),
            ends_on=today + timedelta(days=27),
        ),
        "done": kit.activity(
            t1, title="已完成的培训", status="completed",
            starts_on=today + timedelta(days=2),
        ),
        "teacher2": kit.activity(t2, title="教师二的计划"),
    }  # fmt: skip
    return Scene(kit, world, events, placements, activities)


def feed_url(scene: Scene, which: str) -> str:
    """The URL of one of the three feeds."""
    if which == "teacher":
        return scene.kit.url(scene.world["teacher1"])
    if which == "department":
        return scene.kit.url(scene.world["head1"], FeedScope.DEPARTMENT)
    return PUBLIC


def fetch(scene: Scene, which: str) -> bytes:
    """The body of one feed."""
    response = get(scene.kit.app, feed_url(scene, which))
    assert response.status_code == 200
    return response.data


def vevents(data: bytes) -> dict[str, object]:
    """VEVENTs by UID, via icalendar."""
    return {str(c["UID"]): c for c in Calendar.from_ical(data).walk("VEVENT")}


# --- cross-parser agreement --------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("which", ["teacher", "department", "public"])
def test_every_parser_reads_the_same_events(scene, parsers, which: str) -> None:
    data = fetch(scene, which)
    window = window_dates()
    reference = parsers("icalendar")(data, window)
    assert reference.problems == []
    assert reference.events
    for name in PARSERS:
        result = parsers(name)(data, window)
        assert result.problems == [], name
        assert result.events == reference.events, name


def test_teacher_feed_holds_registrations_placements_and_planned_activities(
    scene, parsers
) -> None:
    events = parsers("icalendar")(fetch(scene, "teacher"), window_dates()).events
    ev = scene.events
    by_uid: dict[str, list[dict]] = {}
    for item in events:
        by_uid.setdefault(item["uid"], []).append(item)
    expected = {
        ev["lecture"].uid, ev["conference"].uid, ev["seminar"].uid,
        ev["cancelled"].uid, ev["full"].uid,
        scene.uid("placement", scene.placements["approved"].id),
        scene.uid("placement", scene.placements["proposed"].id),
        scene.uid("placement", scene.placements["cancelled"].id),
        scene.uid("activity", scene.activities["timed"].id),
        scene.uid("activity", scene.activities["span"].id),
    }  # fmt: skip
    assert set(by_uid) == expected

    def one(uid: str) -> dict:
        (item,) = by_uid[uid]
        return item

    lecture = one(ev["lecture"].uid)
    assert lecture["summary"] == LECTURE
    assert lecture["start_utc"] == ev["lecture"].starts_at.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert lecture["end_utc"] == ev["lecture"].ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert lecture["status"] == "CONFIRMED"
    assert not lecture["all_day"]
    conference = one(ev["conference"].uid)
    assert conference["all_day"]
    assert (conference["start_utc"], conference["end_utc"]) == (
        ev["conference"].start_on.isoformat(),
        ev["conference"].end_on.isoformat(),
    )
    seminar = by_uid[ev["seminar"].uid]
    assert len(seminar) == 5  # six weeks minus the excluded one
    excluded = ev["seminar"].starts_at + timedelta(days=14)
    assert excluded.strftime("%Y-%m-%dT%H:%M:%SZ") not in {
        s["start_utc"] for s in seminar
    }
    assert one(ev["cancelled"].uid)["status"] == "CANCELLED"
    waitlisted = one(ev["full"].uid)
    assert waitlisted["status"] == "TENTATIVE"
    assert ev["full"].title in waitlisted["summary"]
    placement = scene.placements["approved"]
    approved = one(scene.uid("placement", placement.id))
    assert approved["all_day"]
    assert approved["status"] == "CONFIRMED"
    assert approved["start_utc"] == placement.starts_on.isoformat()
    # F5: DTEND is the day after the last day.
    assert approved["end_utc"] == (placement.ends_on + timedelta(days=1)).isoformat()
    assert "华为技术有限公司" in approved["summary"]
    proposed = one(scene.uid("placement", scene.placements["proposed"].id))
    assert proposed["status"] == "TENTATIVE"
    cancelled = one(scene.uid("placement", scene.placements["cancelled"].id))
    assert cancelled["status"] == "CANCELLED"
    timed = one(scene.uid("activity", scene.activities["timed"].id))
    day = scene.activities["timed"].starts_on
    start = datetime.combine(day, time(14), SHANGHAI).astimezone(UTC)
    assert timed["start_utc"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not timed["all_day"]
    span = one(scene.uid("activity", scene.activities["span"].id))
    assert span["all_day"]
    assert (
        span["end_utc"] == (scene.activities["span"].ends_on + timedelta(1)).isoformat()
    )


def test_public_feed_holds_published_and_recently_cancelled_events(scene) -> None:
    uids = set(vevents(fetch(scene, "public")))
    ev = scene.events
    assert uids == {
        ev[k].uid
        for k in (
            "lecture",
            "conference",
            "seminar",
            "cancelled",
            "full",
            "unregistered",
        )
    }
    assert ev["draft"].uid not in uids


def test_department_feed_summarises_by_name(scene) -> None:
    found = vevents(fetch(scene, "department"))
    conference = found[scene.events["conference"].uid]
    assert "teacher1" in str(conference["SUMMARY"])
    assert "teacher2" in str(conference["SUMMARY"])
    huawei = found[scene.uid("placement", scene.placements["teacher2"].id)]
    assert "teacher2" in str(huawei["SUMMARY"])
    assert "华为技术有限公司" in str(huawei["SUMMARY"])
    assert scene.events["unregistered"].uid not in found
    assert not any(uid.startswith("activity-") for uid in found)


def test_same_uid_for_the_same_event_in_every_feed(scene) -> None:
    uid = scene.events["conference"].uid
    placement = scene.uid("placement", scene.placements["approved"].id)
    teacher, department, public = (
        vevents(fetch(scene, w)) for w in ("teacher", "department", "public")
    )
    assert uid in teacher
    assert uid in department
    assert uid in public
    assert placement in teacher
    assert placement in department


# --- bytes and properties ----------------------------------------------------------


@pytest.mark.parametrize("which", ["teacher", "department", "public"])
def test_calendar_properties_and_what_is_left_out(scene, which: str) -> None:
    data = fetch(scene, which)
    text = data.decode("utf-8")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    for line in data.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never a split character
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n" in unfolded
    assert "\r\nX-WR-CALNAME:" in unfolded
    assert "\r\nNAME:" in unfolded
    for banned in ("METHOD:", "ORGANIZER", "ATTENDEE"):
        assert f"\r\n{banned}" not in unfolded
    cal = Calendar.from_ical(data)
    zones = [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")]
    assert zones == ["Asia/Shanghai"]
    assert "COMMENT" not in cal.walk("VTIMEZONE")[0]
    assert unfolded.index("BEGIN:VTIMEZONE") < unfolded.index("BEGIN:VEVENT")
    for event in cal.walk("VEVENT"):
        start = event["DTSTART"]
        if "VALUE" in start.params:
            assert start.params["VALUE"] == "DATE"
            assert event["DTEND"].params["VALUE"] == "DATE"
        else:
            assert start.params["TZID"] == "Asia/Shanghai"
        assert int(event["SEQUENCE"]) >= 0
        assert event["DTSTAMP"].dt == event["LAST-MODIFIED"].dt


def test_chinese_text_survives_intact(scene) -> None:
    lecture = vevents(fetch(scene, "public"))[scene.events["lecture"].uid]
    assert str(lecture["SUMMARY"]) == LECTURE
    assert LECTURE_TEXT in str(lecture["DESCRIPTION"])
    assert str(lecture["LOCATION"]) == "实训楼 301; 线上"
    assert str(lecture["URL"]).endswith(f"/events/{scene.events['lecture'].id}")


def test_dtstamp_is_the_rows_update_time_and_sequence_follows_edits(app, scene) -> None:
    event = scene.events["unregistered"]
    before = vevents(fetch(scene, "public"))[event.uid]
    assert before["DTSTAMP"].dt == event.updated_at.replace(microsecond=0)
    assert int(before["SEQUENCE"]) == 0
    scene.kit.edit_event(event, starts_at=soon(20), ends_at=soon(20, 11))
    with app.app_context():
        from pdtracker.extensions import db

        edited = db.session.get(Event, event.id)
        updated_at, sequence = edited.updated_at, edited.sequence
    after = vevents(fetch(scene, "public"))[event.uid]
    assert int(after["SEQUENCE"]) == sequence == 1
    assert after["DTSTAMP"].dt == updated_at.replace(microsecond=0)
    assert after["DTSTAMP"].dt >= before["DTSTAMP"].dt  # whole seconds


def test_same_data_same_bytes_at_different_times_of_day(scene, monkeypatch) -> None:
    import pdtracker.calendar.views as views

    today = utcnow().astimezone(SHANGHAI).date()
    results = []
    for hour in (8, 21):
        moment = datetime.combine(today, time(hour), SHANGHAI).astimezone(UTC)
        monkeypatch.setattr(views, "utcnow", lambda m=moment: m)
        scene.kit.clear_cache()  # built afresh each time, not served from memory
        responses = [get(scene.kit.app, feed_url(scene, w)) for w in
                     ("teacher", "department", "public")]  # fmt: skip
        results.append([(r.data, r.headers["ETag"]) for r in responses])
    assert results[0] == results[1]


def test_cancelled_entries_leave_the_feed_after_thirty_days(scene, monkeypatch) -> None:
    import pdtracker.calendar.views as views

    before = get(scene.kit.app, PUBLIC)
    assert scene.events["cancelled"].uid.encode() in before.data
    later = utcnow() + timedelta(days=31)
    monkeypatch.setattr(views, "utcnow", lambda: later)
    after = get(scene.kit.app, PUBLIC, **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the window moved: a new version
    assert scene.events["cancelled"].uid.encode() not in after.data
    assert scene.events["lecture"].uid.encode() in after.data
    teacher = get(scene.kit.app, feed_url(scene, "teacher")).data
    assert scene.events["cancelled"].uid.encode() not in teacher
    cancelled = scene.uid("placement", scene.placements["cancelled"].id)
    assert cancelled.encode() not in teacher


def test_window_bounds_the_public_feed(app, scene) -> None:
    kit = scene.kit
    today = utcnow().astimezone(SHANGHAI).date()
    old = kit.event(
        title="很久以前", is_all_day=True, start_on=today - timedelta(days=90),
        end_on=today - timedelta(days=89),
    )  # fmt: skip
    far = kit.event(title="两年以后", starts_at=soon(800), ends_at=soon(800, 10))
    recent = kit.event(
        title="上个月", is_all_day=True, start_on=today - timedelta(days=30),
        end_on=today - timedelta(days=29),
    )  # fmt: skip
    endless = kit.event(
        kind_code="seminar", title="长期每月沙龙", starts_at=soon(-200),
        ends_at=soon(-200, 11), rrule="FREQ=MONTHLY",
    )  # fmt: skip
    uids = set(vevents(fetch(scene, "public")))
    assert old.uid not in uids
    assert far.uid not in uids
    assert recent.uid in uids
    assert endless.uid in uids


def test_planned_activity_in_the_teachers_zone(app, scene) -> None:
    from pdtracker.auth.models import User

    scene.kit.update(User, scene.world["teacher1"].id, timezone="Asia/Urumqi")
    activity = scene.activities["timed"]
    data = fetch(scene, "teacher")
    event = vevents(data)[scene.uid("activity", activity.id)]
    assert event["DTSTART"].params["TZID"] == "Asia/Urumqi"
    assert event["DTSTART"].dt.hour == 14
    assert {str(tz["TZID"]) for tz in Calendar.from_ical(data).walk("VTIMEZONE")} == {
        "Asia/Shanghai",
        "Asia/Urumqi",
    }


def test_english_users_get_english_feed_text(app, scene) -> None:
    from pdtracker.auth.models import User

    scene.kit.update(User, scene.world["teacher1"].id, locale="en")
    data = fetch(scene, "teacher")
    found = vevents(data)
    lecture = found[scene.events["lecture"].uid]
    assert str(lecture["CATEGORIES"].cats[0]) == "Expert lecture"


def test_empty_feed_is_valid(app, world, parsers) -> None:
    kit = FeedKit(app)
    data = get(app, kit.url(world["teacher2"])).data
    assert parsers("icalendar")(data, window_dates()).problems == []
    assert b"BEGIN:VEVENT" not in data
    assert b"BEGIN:VTIMEZONE" in data


def test_edited_activity_gets_a_higher_sequence_only_for_material_changes(
    app, world, client, auth
) -> None:
    """docs/calendar-feeds.md F3: time, place, status or title + 1; a private note, nothing."""
    kit = FeedKit(app)
    today = utcnow().astimezone(SHANGHAI).date()
    planned = kit.activity(
        world["teacher1"], title="企业新技术培训", starts_on=today + timedelta(days=8)
    )
    url = kit.url(world["teacher1"])
    uid = feed_uid("activity", planned.id, app.config["FEED_DOMAIN"])

    def sequence() -> int:
        return int(vevents(get(app, url).data)[uid]["SEQUENCE"])

    assert sequence() == 0
    auth.login("teacher1")
    form = {
        "kind_code": "training", "title": "企业新技术培训", "status": "planned",
        "role": "attendee", "starts_on": (today + timedelta(days=9)).isoformat(),
        "hours": "6",
    }  # fmt: skip
    edit = f"/activities/{planned.id}/edit"
    assert client.post(edit, data=form).status_code == 302  # moved a day
    assert sequence() == 1
    assert client.post(edit, data={**form, "location": "实训楼"}).status_code == 302
    assert sequence() == 2
    assert client.post(edit, data={**form, "location": "实训楼",
                                   "notes": "带笔记本"}).status_code == 302  # fmt: skip
    assert sequence() == 2
