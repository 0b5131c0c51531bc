"""Demo data: a college, its departments, teachers with five years of activities.

Deterministic (a seeded ``random.Random``, every date relative to ``today``) and
idempotent (nothing is added when the demo institution exists). The AI department
is cast so that, under the default ruleset, it has teachers at every level and
every interesting edge: a few days short, days about to leave the window, a planned
placement that closes the gap, and a teacher outside the professional courses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from pdtracker.activities.models import Activity, ActivityRole, ActivityStatus
from pdtracker.auth.models import Role, User
from pdtracker.demo_adoption import MENTOR_LOGINS, seed_adoption
from pdtracker.demo_colleges import LOGINS as COLLEGE_LOGINS
from pdtracker.demo_colleges import USERNAMES as COLLEGE_USERNAMES
from pdtracker.demo_colleges import seed_colleges
from pdtracker.demo_events import seed_events
from pdtracker.extensions import db
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.placements.models import (
    Enterprise,
    Placement,
    PlacementStatus,
    weekdays_between,
)
from pdtracker.reference import ensure_activity_kinds
from pdtracker.timeutil import SHANGHAI

INSTITUTION_CODE = "DEMO"
PASSWORD = "pdtracker-demo"
SEED = 20220901

DEPARTMENTS = (
    ("AI", "人工智能技术应用系", "AI Technology Application"),
    ("IM", "智能制造工程系", "Intelligent Manufacturing Engineering"),
    ("DC", "数字商务系", "Digital Commerce"),
)

# name, sector, city, contact, phone, capacity (fictional companies).
ENTERPRISES = (
    ("星河智能科技有限公司", "人工智能", "深圳", "陈工", "0755-86000101", 3),
    ("华瑞视觉科技有限公司", "机器视觉", "苏州", "刘经理", "0512-62000102", 2),
    ("云启数据服务有限公司", "数据标注与处理", "贵阳", "杨经理", "0851-85000103", 4),
    ("智行机器人有限公司", "工业机器人", "东莞", "周工", "0769-22000104", 2),
    ("数擎云计算有限公司", "云计算", "杭州", "吴经理", "0571-88000105", 3),
    ("天工智造装备股份有限公司", "智能制造", "长沙", "黄工", "0731-84000106", 2),
    ("语联智能语音技术有限公司", "智能语音", "合肥", "孙经理", "0551-65000107", 2),
    ("明途智慧物流有限公司", "智慧物流", "武汉", "郑经理", "027-87000108", 3),
    ("锐芯半导体有限公司", "集成电路", "无锡", "冯工", "0510-85000109", 1),
    ("汇商数字科技有限公司", "电子商务", "广州", "何经理", "020-38000110", 3),
)


@dataclass(frozen=True)
class Plan:
    """What a teacher's verified record adds up to in the window ending today."""

    placement_days: int
    hours: int
    events: int = 3  # expert lectures + industry conferences
    certificate: str | None = None  # grade of a certificate valid today
    projects: int = 0
    standards: int = 0
    speaking: int = 0
    expired_certificate: str | None = None
    lapsing: bool = False  # part of the days started just over 5 years ago
    planned_placement: int = 0  # days of an approved placement ahead


PLANS = {
    "senior": Plan(260, 430, events=8, certificate="senior", projects=2,
                   standards=1, speaking=3),
    "intermediate": Plan(215, 400, events=7, certificate="intermediate", projects=1,
                         speaking=1),
    "primary": Plan(190, 380, events=4, certificate="primary"),
    "primary_expired": Plan(200, 390, events=6, projects=1,
                            expired_certificate="intermediate"),
    "almost": Plan(172, 372, events=5, certificate="intermediate", projects=1,
                   planned_placement=20),
    "short": Plan(176, 365, events=3),
    "lapsing": Plan(205, 384, events=4, lapsing=True),
    "planned": Plan(150, 368, events=4, planned_placement=40),
    "hours_short": Plan(196, 332, events=3),
    "new": Plan(0, 46, events=2),
    "behind": Plan(64, 180, events=2),
    "non_professional": Plan(0, 392, events=4),
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    """One demo account."""

    username: str
    name: str
    roles: tuple[Role, ...]
    department: str | None = None
    plan: str | None = None
    title: str | None = None
    professional: bool = True
    industry_years: int = 0


T, H, S, A = Role.TEACHER, Role.HEAD, Role.STAFF, Role.ADMIN
PEOPLE = (
    Person("admin", "系统管理员", (A,)),
    Person("staff1", "周敏", (S,)),
    Person("staff2", "钱卫东", (S,)),
    # AI department: every level and every edge case of the default ruleset.
    Person("head1", "王建华", (H, T), "AI", "senior", "教授", industry_years=6),
    Person("teacher1", "李明", (T,), "AI", "almost", "讲师", industry_years=2),
    Person("teacher2", "张丽", (T,), "AI", "primary", "讲师", industry_years=1),
    Person("liuyang", "刘洋", (T,), "AI", "senior", "副教授", industry_years=8),
    Person("chenjing", "陈静", (T,), "AI", "intermediate", "副教授", industry_years=3),
    Person("yangfan", "杨帆", (T,), "AI", "intermediate", "讲师", industry_years=5),
    Person("zhaolei", "赵磊", (T,), "AI", "primary", "讲师"),
    Person("huangting", "黄婷", (T,), "AI", "primary_expired", "讲师", industry_years=2),
    Person("zhoujie", "周杰", (T,), "AI", "short", "讲师", industry_years=1),
    Person("wumin", "吴敏", (T,), "AI", "lapsing", "讲师", industry_years=4),
    Person("xutao", "徐涛", (T,), "AI", "planned", "讲师"),
    Person("sunyue", "孙悦", (T,), "AI", "new", "助教"),
    Person("machao", "马超", (T,), "AI", "non_professional", "讲师", professional=False),
    Person("huxiaoyan", "胡晓燕", (T,), "AI", "hours_short", "讲师", industry_years=3),
    # Intelligent manufacturing.
    Person("head2", "林志强", (H, T), "IM", "intermediate", "副教授", industry_years=10),
    Person("guopeng", "郭鹏", (T,), "IM", "senior", "教授", industry_years=12),
    Person("hexue", "何雪", (T,), "IM", "primary", "讲师"),
    Person("gaofeng", "高峰", (T,), "IM", "lapsing", "讲师", industry_years=6),
    Person("luodan", "罗丹", (T,), "IM", "behind", "助教"),
    Person("zhengwei", "郑伟", (T,), "IM", "short", "讲师", industry_years=2),
    Person("liangchen", "梁晨", (T,), "IM", "planned", "讲师"),
    Person("xielin", "谢琳", (T,), "IM", "non_professional", "副教授", professional=False),
    Person("songjian", "宋健", (T,), "IM", "new", "助教"),
    # Digital commerce.
    Person("head3", "韩冰", (H, T), "DC", "senior", "教授", industry_years=7),
    Person("tangjingyi", "唐静怡", (T,), "DC", "intermediate", "讲师", industry_years=4),
    Person("fenglei", "冯磊", (T,), "DC", "behind", "讲师"),
    Person("yuyang", "于洋", (T,), "DC", "primary", "讲师", industry_years=1),
    Person("dongfang", "董方", (T,), "DC", "hours_short", "讲师"),
    Person("xiaoran", "萧然", (T,), "DC", "new", "助教"),
    Person("chengyu", "程雨", (T,), "DC", "behind", "讲师"),
)  # fmt: skip

LOGINS = (
    "teacher1",
    "teacher2",
    "head1",
    "head2",
    "staff1",
    "admin",
    *COLLEGE_LOGINS,
    *MENTOR_LOGINS,
)

LECTURES = (
    "生成式人工智能赋能职业教育专家讲座",
    "大模型应用开发技术前沿讲座",
    "人工智能伦理与数据安全专题讲座",
    "工业视觉检测技术应用讲座",
    "智能制造与数字孪生专题讲座",
    "跨境电商数据分析专家讲座",
)
CONFERENCES = (
    "中国职业教育产教融合大会",
    "全国人工智能职业教育发展论坛",
    "世界智能制造大会",
    "数字经济产业发展峰会",
    "机器人产业创新发展大会",
)
SEMINARS = (
    "校企合作人才培养方案研讨会",
    "1+X证书与课程融通座谈会",
    "专业群建设经验交流研讨会",
    "产业学院建设座谈会",
)
TRAININGS = (
    ("职业院校教师素质提高计划国家级培训（人工智能方向）", 80),
    ("深度学习框架应用师资培训", 40),
    ("数据标注与处理师资研修班", 32),
    ("工业机器人运维师资培训", 56),
    ("课程思政与教学能力提升培训", 24),
    ("云计算平台运维师资培训", 48),
)
CERTIFICATES = {
    "primary": "人工智能训练师职业技能等级证书（初级）",
    "intermediate": "人工智能深度学习工程应用职业技能等级证书（中级）",
    "senior": "计算机视觉应用开发职业技能等级证书（高级）",
}
STANDARDS = (
    "《人工智能训练师》团体标准（参编）",
    "高职人工智能技术应用专业教学标准修订",
    "《数据标注服务规范》行业标准（参编）",
)
PROJECTS = (
    "基于机器视觉的零件缺陷检测系统开发",
    "智能客服知识库构建与问答模型优化",
    "工业设备预测性维护模型开发",
    "电商推荐算法优化项目",
    "仓储机器人路径规划项目",
)
ORGANIZERS = (
    "市人工智能行业协会",
    "省职业技术教育学会",
    "示范职业技术学院",
    "市智能制造产业联盟",
)
REJECTION_REASONS = (
    "证明材料不清晰，请上传加盖公章的证明。",
    "活动日期与证明材料不一致，请核对后重新提交。",
)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class _Builder:
    """Builds one teacher's activities; every choice comes from the seeded generator."""

    def __init__(self, rng: random.Random, today: date, enterprises: list[Enterprise]):
        self.rng, self.today, self.enterprises = rng, today, enterprises
        # First day of the 5-year window ending today.
        self.window_start = _years_before(today, 5) + timedelta(days=1)
        # Verified records end well before today and well after the window opens,
        # so that only the cast "lapsing" teachers change status in the coming months.
        self.early = self.window_start + timedelta(days=200)
        self.late = today - timedelta(days=25)
        self.activities: list[Activity] = []
        self.placements: list[Placement] = []

    def _day(self, lo: date | None = None, hi: date | None = None) -> date:
        lo, hi = lo or self.early, hi or self.late
        return lo + timedelta(days=self.rng.randint(0, (hi - lo).days))

    def _verified_at(self, end: date) -> datetime:
        # Certificates end in the future: verify them soon after they were issued.
        day = min(end, self.late) + timedelta(days=self.rng.randint(3, 20))
        return datetime.combine(day, time(10, 0), SHANGHAI)

    def _add(self, teacher: User, verifier: User | None, **fields: Any) -> Activity:
        fields.setdefault("ends_on", fields["starts_on"])
        fields.setdefault("status", ActivityStatus.VERIFIED.value)
        if fields["status"] == ActivityStatus.VERIFIED.value:
            fields["verified_at"] = self._verified_at(fields["ends_on"])
            fields["verified_by"] = verifier
        activity = Activity(teacher=teacher, **fields)
        self.activities.append(activity)
        return activity

    def build(self, teacher: User, plan: Plan, head: User | None) -> None:
        """Add the verified record described by the plan, then a few extras."""
        self._placements(teacher, plan, head)
        self._hours(teacher, plan, head)
        self._certificates(teacher, plan, head)
        for title in self.rng.sample(PROJECTS, plan.projects):
            enterprise = self.rng.choice(self.enterprises)
            start = self._day(hi=self.late - timedelta(days=120))
            self._add(
                teacher, head, kind_code="enterprise_project",
                title=title,
                organizer=enterprise.name, enterprise=enterprise,
                location=enterprise.city, starts_on=start,
                ends_on=start + timedelta(days=self.rng.randint(60, 110)),
            )  # fmt: skip
        for title in self.rng.sample(STANDARDS, plan.standards):
            start = self._day(hi=self.late - timedelta(days=200))
            self._add(
                teacher, head, kind_code="standard_drafting",
                title=title,
                organizer="全国人工智能职业教育教学指导委员会", starts_on=start,
                ends_on=start + timedelta(days=self.rng.randint(90, 180)),
            )  # fmt: skip

    def _placements(self, teacher: User, plan: Plan, head: User | None) -> None:
        remaining, slot = plan.placement_days, 0
        if plan.lapsing:
            # Started five days before the window opened: its days leave the window
            # one by one over the next three months.
            old_start = self.window_start - timedelta(days=5)
            self._placement(teacher, head, old_start, 90)
            remaining -= 85
            slot = 1
        stints = max(1, -(-remaining // 75)) if remaining else 0
        for i in range(stints):
            length = remaining // (stints - i)
            remaining -= length
            start = self.early + timedelta(
                days=(slot + i) * 330 + self.rng.randint(0, 40)
            )
            self._placement(teacher, head, start, length)
        if plan.planned_placement:
            self._planned_placement(teacher, head, plan.planned_placement)

    def _placement(
        self, teacher: User, head: User | None, start: date, days: int
    ) -> None:
        enterprise = self.rng.choice(self.enterprises)
        self._add(
            teacher, head, kind_code="enterprise_placement",
            title=f"企业实践：{enterprise.name}", organizer=enterprise.name,
            enterprise=enterprise, location=enterprise.city, starts_on=start,
            ends_on=start + timedelta(days=days - 1), days=days,
        )  # fmt: skip

    def _planned_placement(self, teacher: User, head: User | None, days: int) -> None:
        enterprise = self.enterprises[len(self.placements) % len(self.enterprises)]
        start = self.today + timedelta(days=30 + 7 * len(self.placements))
        end = start + timedelta(days=days - 1)
        self.placements.append(
            Placement(
                teacher=teacher, enterprise=enterprise, planned_by=head,
                starts_on=start, ends_on=end, working_days=weekdays_between(start, end),
                mentor_name=enterprise.contact_name, mentor_contact=enterprise.contact_phone,
                tasks="参与企业人工智能项目研发与数据处理，完成实践报告。",
                status=PlacementStatus.APPROVED.value,
            )
        )  # fmt: skip

    def _hours(self, teacher: User, plan: Plan, head: User | None) -> None:
        total = 0
        for i in range(plan.events):
            speaker = i < plan.speaking
            role = ActivityRole.SPEAKER if speaker else ActivityRole.ATTENDEE
            if i % 3 == 2:
                hours, title = self.rng.choice((8, 16)), self.rng.choice(CONFERENCES)
                kind = "industry_conference"
            else:
                hours, title = self.rng.choice((3, 4)), self.rng.choice(LECTURES)
                kind = "expert_lecture"
            total += self._hours_activity(teacher, head, kind, title, hours, role)
        while plan.hours - total >= 24:
            title, hours = self.rng.choice(TRAININGS)
            hours = min(hours, (plan.hours - total) // 8 * 8)
            total += self._hours_activity(teacher, head, "training", title, hours)
        while total < plan.hours:
            hours = min(self.rng.choice((2, 3, 4)), max(2, plan.hours - total))
            title = self.rng.choice(SEMINARS)
            total += self._hours_activity(teacher, head, "seminar", title, hours)

    def _hours_activity(
        self,
        teacher: User,
        head: User | None,
        kind: str,
        title: str,
        hours: int,
        role: ActivityRole = ActivityRole.ATTENDEE,
    ) -> int:
        start = self._day(hi=self.late - timedelta(days=15))
        self._add(
            teacher, head, kind_code=kind, title=title,
            organizer=self.rng.choice(ORGANIZERS), location=self.rng.choice(
                ("线上", "深圳", "杭州", "本校报告厅", "北京")
            ), starts_on=start, ends_on=start + timedelta(days=(hours - 1) // 8),
            hours=Decimal(hours), role=role.value,
        )  # fmt: skip
        return hours

    def _certificates(self, teacher: User, plan: Plan, head: User | None) -> None:
        if plan.certificate:
            start = self._day(self.today - timedelta(days=3 * 365), self.late)
            self._certificate(teacher, head, plan.certificate, start)
        if plan.expired_certificate:
            start = _years_before(self.today, 6)
            self._certificate(teacher, head, plan.expired_certificate, start)

    def _certificate(
        self, teacher: User, head: User | None, grade: str, start: date
    ) -> None:
        self._add(
            teacher, head, kind_code="certificate", title=CERTIFICATES[grade],
            organizer="职业技能等级评价机构", grade=grade, starts_on=start,
            ends_on=start + timedelta(days=5 * 365 - 30),
        )  # fmt: skip

    def extras(
        self, teacher: User, head: User | None, *, awaiting: bool, planned: bool
    ) -> None:
        """Recent records awaiting verification and planned ones ahead (hours only)."""
        if awaiting:
            start = self.today - timedelta(days=self.rng.randint(3, 20))
            self._add(
                teacher, head, kind_code="expert_lecture",
                title=self.rng.choice(LECTURES), organizer=self.rng.choice(ORGANIZERS),
                location="本校报告厅", starts_on=start, hours=Decimal(3),
                status=ActivityStatus.COMPLETED.value,
            )  # fmt: skip
        if planned:
            title, hours = self.rng.choice(TRAININGS)
            start = self.today + timedelta(days=self.rng.randint(10, 120))
            self._add(
                teacher, head, kind_code="training", title=title,
                organizer=self.rng.choice(ORGANIZERS), location="线上",
                starts_on=start, ends_on=start + timedelta(days=(hours - 1) // 8),
                hours=Decimal(hours), status=ActivityStatus.PLANNED.value,
            )  # fmt: skip

    def rejected(self, teacher: User, head: User | None, reason: str) -> None:
        """A record the head sent back."""
        start = self.today - timedelta(days=self.rng.randint(30, 90))
        self._add(
            teacher, head, kind_code="seminar", title=self.rng.choice(SEMINARS),
            organizer=self.rng.choice(ORGANIZERS), starts_on=start, hours=Decimal(4),
            status=ActivityStatus.REJECTED.value, rejection_reason=reason,
        )  # fmt: skip


def seed_demo(today: date | None = None) -> list[str]:
    """Load the demo data once; return lines describing the logins and counts."""
    today = today or datetime.now(SHANGHAI).date()
    ensure_activity_kinds()
    if db.session.scalar(select(Institution).filter_by(code=INSTITUTION_CODE)):
        db.session.commit()
        return ["Demo data already loaded; nothing added.", *_login_lines()]
    names = [p.username for p in PEOPLE] + list(COLLEGE_USERNAMES)
    clash = db.session.scalars(select(User.username).where(User.username.in_(names)))
    if taken := sorted(clash):
        db.session.rollback()
        return [f"Demo not loaded: these usernames already exist: {', '.join(taken)}"]
    rng = random.Random(SEED)
    departments = _departments()
    enterprises = _enterprises()
    users = _users(departments)
    builder = _Builder(rng, today, enterprises)
    heads = {
        p.department: users[p.username]
        for p in PEOPLE
        if Role.HEAD in p.roles and p.department is not None
    }
    for person in PEOPLE:
        if person.plan is None:
            continue
        teacher = users[person.username]
        head = _head_of(teacher, heads)
        builder.build(teacher, PLANS[person.plan], head)
        named = person.username == "teacher1"  # the log shows every status
        awaiting, planned = named or rng.random() < 0.3, named or rng.random() < 0.5
        builder.extras(teacher, head, awaiting=awaiting, planned=planned)
    for username, reason in zip(("zhoujie", "fenglei"), REJECTION_REASONS, strict=True):
        builder.rejected(users[username], _head_of(users[username], heads), reason)
    _current_placements(builder, users, heads)
    _other_colleges(today, departments, users, enterprises)
    db.session.add_all(builder.activities)
    db.session.add_all(builder.placements)
    event_lines = seed_events(today, users, enterprises)
    # The adoption layer's clock: the demo's day (tests pass a fixed one).
    moment = datetime.combine(today, time(9), SHANGHAI).astimezone(UTC)
    adoption_lines = seed_adoption(today, moment, INSTITUTION_CODE)
    db.session.commit()
    return [
        "Demo data loaded.",
        *_login_lines(),
        *_summary(),
        *event_lines,
        *adoption_lines,
    ]


def _other_colleges(
    today: date,
    departments: dict[str, Department],
    users: dict[str, User],
    enterprises: list[Enterprise],
) -> None:
    """The other member colleges and the college admins (pdtracker.demo_colleges).

    Their records come from a generator of their own: the demo college's stay as
    they were.
    """
    builder = _Builder(random.Random(SEED + 1), today, enterprises)
    seed_colleges(
        departments["AI"].institution,
        users["admin"].password_hash,
        lambda teacher, plan, head: builder.build(teacher, PLANS[plan], head),
    )
    db.session.add_all(builder.activities)
    db.session.add_all(builder.placements)


def _departments() -> dict[str, Department]:
    institution = Institution(code=INSTITUTION_CODE, name="示范职业技术学院")
    departments = {
        code: Department(institution=institution, code=code, name=name, name_en=en)
        for code, name, en in DEPARTMENTS
    }
    db.session.add_all([institution, *departments.values()])
    return departments


def _enterprises() -> list[Enterprise]:
    existing = {
        e.name: e
        for e in db.session.scalars(
            select(Enterprise).where(Enterprise.name.in_([e[0] for e in ENTERPRISES]))
        )
    }
    result = []
    for name, sector, city, contact, phone, capacity in ENTERPRISES:
        enterprise = existing.get(name) or Enterprise(
            name=name, sector=sector, city=city, contact_name=contact,
            contact_phone=phone, placement_capacity=capacity,
        )  # fmt: skip
        result.append(enterprise)
    db.session.add_all([e for e in result if e.name not in existing])
    return result


def _users(departments: dict[str, Department]) -> dict[str, User]:
    # One hash for everyone: the password is the same and hashing is the slow part.
    template = User(username="", display_name="")
    template.set_password(PASSWORD)
    users = {}
    for number, person in enumerate(PEOPLE, start=1):
        user = User(
            username=person.username,
            display_name=person.name,
            email=f"{person.username}@demo.edu.cn",
            password_hash=template.password_hash,
            department=departments.get(person.department or ""),
        )
        user.set_roles(set(person.roles))
        if Role.TEACHER in person.roles:
            user.teacher_profile = TeacherProfile(
                staff_number=f"DEMO{2008 + number % 15}{number:03d}",
                title=person.title,
                is_professional_course=person.professional,
                prior_industry_years=person.industry_years,
            )
        users[person.username] = user
    db.session.add_all(users.values())
    return users


def _head_of(teacher: User, heads: dict[str, User]) -> User:
    """The head of the teacher's department (every demo teacher has one)."""
    assert teacher.department is not None
    return heads[teacher.department.code]


def _current_placements(
    builder: _Builder, users: dict[str, User], heads: dict[str, User]
) -> None:
    """Placements under way or proposed, for the planner's timeline."""
    today = builder.today
    rows = (
        ("hexue", -12, 30, PlacementStatus.IN_PROGRESS, None),
        ("yuyang", 60, 21, PlacementStatus.PROPOSED, None),
        ("luodan", 90, 28, PlacementStatus.PROPOSED, None),
        ("fenglei", 20, 14, PlacementStatus.CANCELLED, "企业项目延期，改期另行安排。"),
    )
    for i, (username, offset, days, status, reason) in enumerate(rows):
        teacher = users[username]
        enterprise = builder.enterprises[-1 - i]
        start = today + timedelta(days=offset)
        end = start + timedelta(days=days - 1)
        builder.placements.append(
            Placement(
                teacher=teacher, enterprise=enterprise,
                planned_by=_head_of(teacher, heads), starts_on=start,
                ends_on=end, working_days=weekdays_between(start, end),
                mentor_name=enterprise.contact_name, tasks="跟岗实践，参与生产与研发。",
                status=status.value, cancel_reason=reason,
            )
        )  # fmt: skip


def _login_lines() -> list[str]:
    users = db.session.scalars(
        select(User)
        .options(joinedload(User.department), joinedload(User.institution))
        .where(User.username.in_(LOGINS))
    ).unique()
    found = {u.username: u for u in users}
    lines = [f"Logins (password {PASSWORD}):"]
    for username in LOGINS:
        if user := found.get(username):
            role_text = "+".join(sorted(r.value for r in user.role_set))
            place = user.department or user.institution
            lines.append(
                f"  {username:<9} {role_text:<13} {place.name if place else '-'}"
            )
    return lines


def _summary() -> list[str]:
    def count(model: type) -> int:
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    return [
        f"Departments: {count(Department)}, users: {count(User)}, "
        f"teachers: {count(TeacherProfile)}, enterprises: {count(Enterprise)}, "
        f"activities: {count(Activity)}, placements: {count(Placement)}"
    ]
