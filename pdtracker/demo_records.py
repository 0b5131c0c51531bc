"""The demo teachers' records: a builder that turns a plan into activities and
placements, every choice drawn from a seeded generator, every date relative to
``today``; and the titles, organisers and certificates it draws from.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pdtracker.activities.models import Activity, ActivityRole, ActivityStatus
from pdtracker.auth.models import User
from pdtracker.demo_cast import Plan
from pdtracker.placements.models import (
    Enterprise,
    Placement,
    PlacementStatus,
    weekdays_between,
)
from pdtracker.timeutil import SHANGHAI

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


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class RecordBuilder:
    """Builds one teacher's activities; every choice comes from the seeded generator."""

    def __init__(self, rng: random.Random, today: date, enterprises: list[Enterprise]):
        self.rng, self.today, self.enterprises = rng, today, enterprises
        # First day of the 5-year window ending today.
        self.window_start = years_before(today, 5) + timedelta(days=1)
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
            start = years_before(self.today, 6)
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
