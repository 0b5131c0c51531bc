"""The demo college's cast: its departments, partner enterprises and people, and the
record each teacher's plan adds up to (pdtracker.demo builds the rows from these).
"""

from __future__ import annotations

from dataclasses import dataclass

from pdtracker.auth.models import Role

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
