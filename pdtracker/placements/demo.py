"""Demo marketplace: 12 enterprises with open offers, two mentors, requests in every state.

Call :func:`seed_marketplace` after ``pdtracker.demo.seed_demo`` (it needs the demo
college's heads and teachers and ``staff1``). Idempotent: a second call adds nothing.
New logins: ``mentor1`` (星河智能科技) and ``mentor2`` (天工智造装备), password
``pdtracker-demo``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from pdtracker.auth.models import Role, User, UserRole
from pdtracker.extensions import db
from pdtracker.org.queries import department_teachers
from pdtracker.placements.market import (
    ask_head,
    confirm_request,
    decline_request,
    publish_offer,
    request_seat,
    withdraw_request,
)
from pdtracker.placements.market_models import DepartmentSector, EnterpriseMentor
from pdtracker.placements.mentors import record_attendance
from pdtracker.placements.models import Enterprise
from pdtracker.placements.services import start_placement
from pdtracker.timeutil import local_today, utcnow

PASSWORD = "pdtracker-demo"
# Two enterprises beyond the demo's ten: twelve host offers.
MORE_ENTERPRISES = (
    ("海岳新能源汽车有限公司", "新能源汽车", "宁波"),
    ("青禾智慧农业科技有限公司", "智慧农业", "成都"),
)
# enterprise name → (post, scene, skills); one offer each, two for the mentors'.
POSTS = {
    "星河智能科技有限公司": ("算法工程师助理", "智能客服模型训练", "Python, 机器学习"),
    "华瑞视觉科技有限公司": ("视觉检测工程师", "产线缺陷检测", "OpenCV, 标定"),
    "云启数据服务有限公司": ("数据标注主管", "自动驾驶数据标注", "标注规范, 质检"),
    "智行机器人有限公司": ("机器人调试员", "焊接工作站", "示教编程, PLC"),
    "数擎云计算有限公司": ("云运维工程师", "政务云平台", "Linux, Kubernetes"),
    "天工智造装备股份有限公司": ("智能产线工程师", "数字化车间", "MES, PLC"),
    "语联智能语音技术有限公司": ("语音数据工程师", "方言语音识别", "语音标注, Python"),
    "明途智慧物流有限公司": ("仓储系统工程师", "智能分拣中心", "WMS, AGV"),
    "锐芯半导体有限公司": ("封装测试技术员", "芯片封测车间", "测试程序, 良率分析"),
    "汇商数字科技有限公司": ("直播电商运营", "跨境电商直播间", "数据分析, 运营"),
    "海岳新能源汽车有限公司": ("电池包装配工程师", "电池包总装线", "BMS, 装配工艺"),
    "青禾智慧农业科技有限公司": ("农业物联网工程师", "智慧温室", "传感器, LoRa"),
}
MENTORS = (
    ("mentor1", "陈卫东", "星河智能科技有限公司"),
    ("mentor2", "黄志刚", "天工智造装备股份有限公司"),
)
DEPARTMENT_SECTORS = {
    "AI": ("人工智能", "机器视觉", "数据标注与处理", "云计算", "智能语音"),
    "IM": ("工业机器人", "智能制造", "集成电路", "新能源汽车"),
    "DC": ("电子商务", "智慧物流", "智慧农业"),
}


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def seed_marketplace(
    today: date | None = None, now: datetime | None = None
) -> list[str]:
    """Load the demo marketplace once; lines describing what was added.

    Needs the demo (``seed_demo``): its staff1, head1/head2 and their teachers.
    The caller commits.
    """
    today = today or local_today()
    now = now or utcnow()
    if _user("mentor1") is not None:
        return ["Demo marketplace already loaded; nothing added."]
    staff, head1, head2 = _user("staff1"), _user("head1"), _user("head2")
    if staff is None or head1 is None or head2 is None:
        return ["Demo marketplace not loaded: load the demo first."]
    enterprises = _enterprises()
    mentors = _mentors(enterprises, now)
    _sectors(head1, head2)
    offers = []
    for n, (name, (post, scene, skills)) in enumerate(POSTS.items()):
        enterprise = enterprises[name]
        mentor = next((m for m, e in mentors if e == name), None)
        for extra in range(2 if mentor else 1):
            start = _monday(today + timedelta(days=21 + 30 * ((n + 5 * extra) % 9)))
            length = 4 if extra else 2 + n % 3  # weeks
            offers.append(
                publish_offer(
                    actor=staff, now=now, enterprise_id=enterprise.id,
                    post=post if not extra else f"{post}（第二期）", scene=scene,
                    tasks=f"参与{scene}的日常工作，完成一个可带回课堂的真实项目。",
                    sector=enterprise.sector or "", skills=skills,
                    mentor_id=mentor.id if mentor else None, seats=2 + n % 3,
                    starts_on=start, ends_on=start + timedelta(weeks=length, days=-3),
                    working_days=5 * length, location=f"{enterprise.city}{scene}",
                    bring_back=f"把{scene}的案例编入课程，形成一套教学项目。",
                )
            )  # fmt: skip
    _requests(offers, head1, head2, staff, mentors, today, now)
    return [
        f"Marketplace: {len(offers)} open offers from {len(enterprises)} enterprises.",
        "mentor1 / mentor2 (enterprise mentors), password pdtracker-demo.",
    ]


def _enterprises() -> dict[str, Enterprise]:
    found = {
        e.name: e
        for e in db.session.scalars(
            select(Enterprise).where(Enterprise.name.in_(list(POSTS)))
        )
    }
    for name, sector, city in MORE_ENTERPRISES:
        if name not in found:
            found[name] = Enterprise(
                name=name, sector=sector, city=city, placement_capacity=3
            )
            db.session.add(found[name])
    db.session.flush()
    return found


def _mentors(
    enterprises: dict[str, Enterprise], now: datetime
) -> list[tuple[User, str]]:
    made = []
    for username, name, enterprise_name in MENTORS:
        user = User(
            username=username,
            display_name=name,
            email=f"{username}@example.com",
            created_at=now,
            updated_at=now,
        )
        user.set_password(PASSWORD)
        user.roles.append(UserRole(role=Role.MENTOR.value))
        db.session.add(user)
        db.session.flush()
        db.session.add(
            EnterpriseMentor(
                user_id=user.id,
                enterprise_id=enterprises[enterprise_name].id,
                created_at=now,
            )
        )
        made.append((user, enterprise_name))
    db.session.flush()
    return made


def _sectors(*heads: User) -> None:
    for head in heads:
        department = head.department
        if department is None:
            continue
        for sector in DEPARTMENT_SECTORS.get(department.code, ()):
            db.session.merge(
                DepartmentSector(department_id=department.id, sector=sector)
            )
    db.session.flush()


def _requests(offers, head1, head2, staff, mentors, today, now) -> None:
    """Requests in every state, and each mentor's placement under way."""
    ai = [t for t in department_teachers(head1.department_id) if t.id != head1.id]
    im = [t for t in department_teachers(head2.department_id) if t.id != head2.id]
    (mentor1, _), (mentor2, _) = mentors
    by_mentor = {
        m.id: [o for o in offers if o.mentor_id == m.id] for m in (mentor1, mentor2)
    }
    # Under way: a placement each mentor hosts that began last week.
    for mentor, head, teacher in ((mentor1, head1, ai[2]), (mentor2, head2, im[0])):
        offer = by_mentor[mentor.id][0]
        begun = _monday(today) - timedelta(weeks=1)
        offer.starts_on, offer.ends_on = begun, begun + timedelta(weeks=4, days=-3)
        db.session.flush()
        request = request_seat(offer, teacher, actor=head, now=now)
        placement = confirm_request(request, actor=mentor, now=now)
        start_placement(placement, actor=head, now=now)
        record_attendance(
            placement,
            [begun + timedelta(days=i) for i in range(5)],
            actor=mentor,
            now=now,
        )
    # Waiting for the mentor or staff.
    request_seat(by_mentor[mentor1.id][1], ai[0], actor=head1, now=now)
    # A teacher asked the head.
    ask_head(offers[3], actor=ai[1], now=now)
    # Confirmed (approved, not started yet).
    confirmed = request_seat(by_mentor[mentor2.id][1], im[1], actor=head2, now=now)
    confirm_request(confirmed, actor=mentor2, now=now)
    # Declined with a reason.
    declined = request_seat(offers[5], ai[3], actor=head1, now=now)
    decline_request(
        declined, actor=staff, reason="该时段企业接待已满，请选择下一期。", now=now
    )
    # Withdrawn by the head.
    withdrawn = request_seat(offers[6], im[2], actor=head2, now=now)
    withdraw_request(withdrawn, actor=head2, now=now)
