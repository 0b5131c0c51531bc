"""Demo association events, registrations and placements, seeded through the real services.

Called by :func:`pdtracker.demo.seed_demo` once, inside its transaction (it commits).
Every date is relative to ``today`` and every write is stamped with a ``now`` before
today, so derived fields (UIDs, sequences, series ends, credited activities, audit
entries) are exactly what the app would have produced. The scheduler finds work at
once: an event tomorrow with teacher1 registered (its reminder is due at 09:00
today), a full event whose registration closes at the end of tomorrow with teacher1
on its waitlist, and an approved placement of the AI department starting in 4 days.
The weekly series (10 sessions, one skipped) has teacher1 in its sessions still to
come, one of which was moved.

Attendance and the completed placement credit only teachers whose level they cannot
change (see the cast in demo.py): teacher1, the "short", "hours_short" and
"lapsing" teachers get registrations for upcoming events only.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from pdtracker.auth.models import User
from pdtracker.events.attendance import mark_attended
from pdtracker.events.models import Event, Registration
from pdtracker.events.recurrence import normalise_rrule
from pdtracker.events.registrations import cancel_registration, register
from pdtracker.events.services import (
    EventData,
    cancel_event,
    create_event,
    publish_event,
)
from pdtracker.events.session_changes import move_session
from pdtracker.events.sessions import list_sessions
from pdtracker.extensions import db
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.placements.services import (
    approve_placement,
    cancel_placement,
    complete_placement,
    plan_placement,
    start_placement,
)
from pdtracker.timeutil import SHANGHAI

CITY = "深圳"
WEEKLY_SESSIONS = 10
WEDNESDAY = 2


@dataclass(frozen=True)
class EventSpec:
    """One demo event: when (days from today, local times) and who registers."""

    kind: str
    title: str
    day: int
    start: str | None  # "HH:MM"; None for an all-day event
    end: str | None = None  # "HH:MM"; for all-day events see ``days``
    days: int = 1  # all-day events: how many days
    hours: str = "3"
    speakers: str | None = None
    location: str | None = None
    description: str | None = None
    capacity: int | None = None
    deadline: tuple[int, str] | None = None  # (days from today, "HH:MM")
    registered: tuple[str, ...] = ()  # in order: past the capacity, the waitlist
    withdrawn: tuple[str, ...] = ()  # registered, then cancelled their place
    attended: tuple[str, ...] = ()  # marked the day after the event
    status: str = "published"
    weekly: bool = False  # a weekly series of WEEKLY_SESSIONS, one session skipped


EVENTS = (
    # --- past: attendance marked (credited through the real service) -------------
    EventSpec(
        "expert_lecture", "生成式人工智能赋能职业教育专家讲座", -115, "14:00", "17:00",
        speakers="陈志远（星河智能科技有限公司 首席科学家）",
        location="深圳市南山区深圳湾科技生态园 10栋 报告厅",
        description="大模型技术进展及其在专业教学、实训与评价中的应用案例。",
        capacity=120, deadline=(-117, "17:00"),
        registered=("head1", "liuyang", "chenjing", "yangfan"),
        attended=("head1", "liuyang", "chenjing"),
    ),
    EventSpec(
        "industry_conference", "粤港澳大湾区智能制造产业发展大会", -88, "09:00", "17:30",
        hours="8", speakers="产业专家、企业代表与职业院校代表",
        location="深圳会展中心（福田）6号馆",
        description="智能制造、工业互联网与产教融合主题报告和圆桌对话。",
        capacity=300, deadline=(-92, "17:00"),
        registered=("liuyang", "yangfan", "machao"),
        attended=("liuyang", "yangfan", "machao"),
    ),
    EventSpec(
        "expert_lecture", "工业视觉缺陷检测技术与典型案例讲座", -62, "14:30", "17:30",
        speakers="刘思源（华瑞视觉科技有限公司 技术总监）",
        location="深圳市南山区西丽 示范职业技术学院 图书馆报告厅",
        description="计算机视觉在产线质检中的落地：数据采集、模型训练与部署。",
        capacity=80, deadline=(-64, "17:00"),
        registered=("chenjing", "zhaolei", "sunyue"),
        attended=("chenjing", "zhaolei", "sunyue"),
    ),
    EventSpec(
        "seminar", "数据标注与处理课程校企共建研讨会", -35, "09:30", "12:30",
        speakers="杨帆（云启数据服务有限公司 交付经理）",
        location="深圳市福田区 区域人工智能产业协会 会议室",
        description="数据标注岗位标准、实训项目与课程资源的校企共建。",
        capacity=30, deadline=(-37, "17:00"),
        registered=("head1", "yangfan", "zhaolei"),
        attended=("head1", "yangfan", "zhaolei"),
    ),
    EventSpec(
        # Over, attendance not marked yet: staff have something to do.
        "expert_lecture", "智能语音交互技术与应用前景专家讲座", -12, "14:00", "16:30",
        hours="2.5", speakers="孙晓东（语联智能语音技术有限公司 研究院院长）",
        location="深圳市南山区深圳湾科技生态园 10栋 报告厅",
        capacity=100, deadline=(-14, "17:00"),
        registered=("liuyang", "sunyue", "machao"),
    ),
    EventSpec(
        # Weekly from about six weeks ago; one session skipped for a holiday.
        "seminar", "大模型应用教学沙龙（每周三晚）", -45, "19:00", "20:30",
        hours="1.5", speakers="人工智能技术应用系 教研室",
        location="线上（腾讯会议）",
        description="每周一个大模型应用案例的教学化改造：提示工程、RAG、智能体。",
        registered=("head1", "zhaolei", "machao", "sunyue"),
        attended=("head1", "zhaolei"), weekly=True,
    ),
    # --- upcoming ---------------------------------------------------------------
    EventSpec(
        # Tomorrow: teacher1's "event tomorrow" reminder is due at 09:00 today.
        "expert_lecture", "大模型应用开发实战专家讲座", 1, "14:00", "17:00",
        speakers="陈志远（星河智能科技有限公司 首席科学家）",
        location="深圳市南山区深圳湾科技生态园 10栋 报告厅",
        description="从需求到上线：基于开源大模型的行业应用开发全流程。",
        capacity=120, deadline=(0, "12:00"),
        registered=("teacher1", "teacher2", "huangting", "zhoujie"),
    ),
    EventSpec(
        # Full, with a waitlist; registration closes at the end of tomorrow, so the
        # waitlisted teachers' deadline reminder is due already.
        "seminar", "计算机视觉项目化课程开发工作坊（小班）", 5, "14:00", "17:00",
        speakers="刘思源（华瑞视觉科技有限公司 技术总监）",
        location="深圳市南山区西丽 示范职业技术学院 实训楼 AI 实训室",
        description="小班工作坊：以工业质检项目为载体设计计算机视觉课程单元。",
        capacity=3, deadline=(2, "00:00"),
        registered=("head1", "chenjing", "zhaolei", "teacher1", "sunyue"),
    ),
    EventSpec(
        "expert_lecture", "生成式AI与智能客服系统构建专家讲座", 20, "14:00", "17:00",
        speakers="周宁（语联智能语音技术有限公司 产品总监）", location="线上（腾讯会议）",
        capacity=200, deadline=(18, "17:00"),
        registered=("teacher1", "huangting", "machao"), withdrawn=("huangting",),
    ),
    EventSpec(
        # Cancelled by the association; the registrations stay as they were.
        "expert_lecture", "人工智能伦理与数据安全专题讲座", 25, "09:30", "11:30",
        hours="2", speakers="王立群（市网络与数据安全研究中心）",
        location="深圳市福田区 区域人工智能产业协会 会议室",
        capacity=60, deadline=(23, "17:00"),
        registered=("teacher2", "zhoujie"), status="cancelled",
    ),
    EventSpec(
        # Multi-day, all day.
        "industry_conference", "2026 人工智能与职业教育融合发展大会", 40, None, days=3,
        hours="16", speakers="教育行政部门、行业协会、企业与院校代表",
        location="深圳国际会展中心（宝安）",
        description="主论坛与大模型应用、智能制造、数据要素三个分论坛。",
        capacity=500, deadline=(33, "17:00"),
        registered=("head1", "chenjing", "teacher2"),
    ),
    EventSpec(
        "seminar", "人工智能技术应用专业群建设研讨会", 60, "09:00", "12:00",
        speakers="王建华（示范职业技术学院 人工智能技术应用系）",
        location="深圳市南山区西丽 示范职业技术学院 行政楼 第一会议室",
        capacity=40, deadline=(57, "17:00"), registered=("teacher2",),
    ),
    EventSpec(
        "expert_lecture", "具身智能与工业机器人前沿讲座", 95, "14:00", "17:00",
        speakers="赵启明（智行机器人有限公司 研发中心主任）",
        location="深圳市宝安区 智行机器人有限公司 展厅",
        capacity=80, deadline=(92, "17:00"),
    ),
    EventSpec(
        # Still a draft: only staff see it.
        "expert_lecture", "智能网联汽车数据标注技术讲座", 75, "14:00", "16:00",
        hours="2", speakers="待定", location=f"{CITY}（地点待定）", status="draft",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class PlacementSpec:
    """One demo placement of the AI department and how far it went."""

    teacher: str
    enterprise: int  # index into the demo's enterprises
    start: int  # days from today
    days: int
    status: str
    planned: int  # days from today when the head proposed it
    reason: str | None = None  # for a cancelled one


PLACEMENTS = (
    # Starts within a week: the "placement starting" reminder is due already.
    PlacementSpec("yangfan", 1, 4, 14, "approved", -40),
    PlacementSpec("liuyang", 0, -10, 31, "in_progress", -60),
    PlacementSpec("chenjing", 2, 50, 21, "proposed", -5),
    PlacementSpec("zhaolei", 6, -90, 28, "completed", -130),
    PlacementSpec(
        "sunyue", 4, 35, 14, "cancelled", -20, "学期教学任务调整，暂缓安排。"
    ),
)

TASKS = "参与企业人工智能项目的数据处理、模型训练与部署，完成企业实践报告。"
REPORT_NAME = "企业实践总结报告.pdf"


def _local(today: date, days: int, hhmm: str) -> datetime:
    """A local wall-clock time ``days`` after today, as an aware UTC instant."""
    clock = time.fromisoformat(hhmm)
    return datetime.combine(today + timedelta(days=days), clock, SHANGHAI).astimezone(
        UTC
    )


def _first_day(spec: EventSpec, today: date) -> date:
    day = today + timedelta(days=spec.day)
    if spec.weekly:  # back to the Wednesday on or before
        day -= timedelta(days=(day.weekday() - WEDNESDAY) % 7)
    return day


def _event_data(spec: EventSpec, today: date) -> EventData:
    first = _first_day(spec, today)
    offset = (first - today).days
    common: dict[str, Any] = {
        "kind_code": spec.kind,
        "title": spec.title,
        "description": spec.description,
        "speakers": spec.speakers,
        "location": spec.location,
        "capacity": spec.capacity,
        "credited_hours": Decimal(spec.hours),
        "registration_deadline": spec.deadline and _local(today, *spec.deadline),
    }
    if spec.start is None:
        return EventData(
            is_all_day=True,
            start_on=first,
            end_on=first + timedelta(days=spec.days),
            **common,
        )
    starts_at = _local(today, offset, spec.start)
    data = EventData(
        starts_at=starts_at,
        ends_at=_local(today, offset, spec.end or spec.start),
        **common,
    )
    if spec.weekly:
        local_start = starts_at.astimezone(SHANGHAI)
        data.rrule = normalise_rrule(
            f"FREQ=WEEKLY;BYDAY=WE;COUNT={WEEKLY_SESSIONS}",
            local_start,
            data.tzid,
            all_day=False,
        )
        # The eighth session falls on a holiday (two weeks or so from today).
        data.exdates = [(starts_at + timedelta(weeks=7)).isoformat()]
    return data


def _seed_event(
    spec: EventSpec, today: date, users: dict[str, User], staff: User
) -> Event:
    first = _first_day(spec, today)
    # Announced a month ahead (at least two weeks before today); registrations follow.
    opened = min((first - today).days - 30, -14)
    event = create_event(
        _event_data(spec, today), staff, _local(today, opened, "10:00")
    )
    if spec.status == "draft":
        return event
    publish_event(event, staff, _local(today, opened, "11:00"))
    joined = _local(today, opened + 1, "09:00")
    for i, username in enumerate(spec.registered):
        register(users[username], event, joined + timedelta(minutes=37 * i))
    for i, username in enumerate(spec.withdrawn):
        when = _local(today, opened + 3, "09:00") + timedelta(minutes=11 * i)
        cancel_registration(users[username], event, when)
    if spec.attended:
        marked = event.ends_at.astimezone(SHANGHAI).date() + timedelta(days=1)
        now = datetime.combine(marked, time(10), SHANGHAI).astimezone(UTC)
        attendees = [users[name].id for name in spec.attended]
        registrations = db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.teacher_id.in_(attendees),
            )
            .order_by(Registration.id)
        ).all()
        for registration in registrations:
            mark_attended(registration, staff, now)
    if spec.status == "cancelled":
        cancel_event(event, staff, _local(today, -3, "10:00"))
    if spec.weekly:
        _series_changes(event, today, users["teacher1"], staff)
    return event


def _series_changes(event: Event, today: date, teacher: User, staff: User) -> None:
    """teacher1 joins the series' sessions still to come; the second of them moves.

    It moves a day later and to a classroom, two days ago, so teacher1's calendar
    shows that session's own RECURRENCE-ID override and the notification waits.
    """
    register(teacher, event, _local(today, -3, "08:30"))
    upcoming = [
        s for s in list_sessions(event) if s.starts_at > _local(today, -2, "10:00")
    ]
    if len(upcoming) < 2:
        return
    session = upcoming[1]
    move_session(
        event, session.key, session.starts_at + timedelta(days=1),
        session.ends_at + timedelta(days=1),
        "示范职业技术学院 实训楼 502 室", staff, _local(today, -2, "10:00"),
    )  # fmt: skip


def report_pdf() -> bytes:
    """A small valid one-page PDF standing in for a teacher's final report."""
    text = b"BT /F1 18 Tf 72 760 Td (Enterprise practice report - demo) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _seed_placement(
    spec: PlacementSpec,
    today: date,
    users: dict[str, User],
    enterprises: list[Enterprise],
    head: User,
) -> Placement:
    teacher, enterprise = users[spec.teacher], enterprises[spec.enterprise]
    starts_on = today + timedelta(days=spec.start)
    placement = plan_placement(
        actor=head, teacher_id=teacher.id, enterprise_id=enterprise.id,
        starts_on=starts_on, ends_on=starts_on + timedelta(days=spec.days - 1),
        now=_local(today, spec.planned, "15:00"), mentor_name=enterprise.contact_name,
        mentor_contact=enterprise.contact_phone, tasks=TASKS,
    )  # fmt: skip
    if spec.status == "cancelled":
        when = _local(today, spec.planned + 12, "10:00")
        cancel_placement(placement, actor=head, reason=spec.reason or "", now=when)
        return placement
    if spec.status == "proposed":
        return placement
    approve_placement(
        placement, actor=head, now=_local(today, spec.planned + 10, "10:00")
    )
    if spec.status == "approved":
        return placement
    start_placement(placement, actor=head, now=_local(today, spec.start, "09:00"))
    if spec.status == "completed":
        done = _local(today, spec.start + spec.days + 5, "10:00")
        complete_placement(
            placement, actor=head, now=done,
            report=io.BytesIO(report_pdf()), report_name=REPORT_NAME,
        )  # fmt: skip
    return placement


def seed_events(
    today: date, users: dict[str, User], enterprises: list[Enterprise]
) -> list[str]:
    """Add the demo events, registrations and AI placements; return summary lines."""
    db.session.flush()  # the services need the users' and enterprises' ids
    staff, head = users["staff1"], users["head1"]
    for spec in EVENTS:
        _seed_event(spec, today, users, staff)
    for placement_spec in PLACEMENTS:
        _seed_placement(placement_spec, today, users, enterprises, head)
    db.session.flush()
    return _summary()


def _summary() -> list[str]:
    def by_status(model: type[Event | Registration | Placement]) -> Counter[str]:
        rows = db.session.execute(
            select(model.status, func.count()).group_by(model.status)
        )
        return Counter(dict(rows.all()))

    def text(counts: Counter[str]) -> str:
        return ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))

    return [
        f"Association events: {text(by_status(Event))}",
        f"Registrations: {text(by_status(Registration))}",
        f"Placements: {text(by_status(Placement))}",
    ]
