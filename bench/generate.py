"""Seed a benchmark institution: N teachers with five years of realistic records.

Everything is written in bulk (PostgreSQL COPY, SQLite Core executemany) into a fresh
database whose schema comes from the Alembic migrations, as a deployment's does
(``flask db upgrade``). Columns a row does not name get the table definition's
default, so a column a migration adds needs no edit here. Every date is relative
to the day of generation and every choice comes from a seeded ``random.Random``, so
a size always yields the same institution.

The cast the benchmark needs is recorded in a JSON file beside the database:
the benchmarked teacher (about 100 activities, about 120 feed entries), the heads of
departments of 30, 300 and 1,000 teachers, a few teachers for the write burst, and
the feed token of the benchmarked teacher.

With ``--colleges N`` the teachers belong to N member colleges (the association's
scale is 100 colleges, 60,000 teachers and 6 million activities), and a staff
login sees them all on the association dashboard. The generator ends by storing
every teacher's standing, as the standings tick would have.

Run alone: ``python -m bench.generate --size 300 --db sqlite [--colleges N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from alembic.util import CommandError
from flask_migrate import upgrade
from sqlalchemy import JSON, Connection, Table, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `pdtracker` importable
    sys.path.insert(0, str(ROOT))

from pdtracker import create_app  # noqa: E402
from pdtracker.extensions import db  # noqa: E402
from pdtracker.placements.models import weekdays_between  # noqa: E402
from pdtracker.progress import standings  # noqa: E402
from pdtracker.reference import ensure_activity_kinds  # noqa: E402

GENERATOR_VERSION = "5"  # 5: member colleges, a staff login, stored standings
# Databases, casts and results; BENCH_OUT (or --out) puts them elsewhere.
OUT = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "out")
PASSWORD = "bench-password"
SEED = 20260601
ZONE = ZoneInfo("Asia/Shanghai")
PG_ADMIN = os.environ.get(
    "BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
GROWTH_SIZES = (300, 30, 1000)  # the first one holds the benchmarked teacher
MIN_SIZE = GROWTH_SIZES[0]  # the department page is measured at 300 teachers
OTHER_DEPARTMENT_SIZE = 150
EVENTS = 700
ENTERPRISES = 200
BURST_TEACHERS = 8
STAFF_USERNAME = "staff-bench"
CACHE_DAYS = 7  # a cached database older than this is regenerated (dates move)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国晓"
    "东志红玉兰海燕欣怡子涵浩然宇轩梓萱思远嘉怡雨婷俊杰文博一鸣佳"
    "琪"
)
DEPARTMENT_NAMES = (
    ("人工智能技术应用系", "AI Technology Application"),
    ("智能制造工程系", "Intelligent Manufacturing Engineering"),
    ("数字商务系", "Digital Commerce"),
    ("汽车工程系", "Automotive Engineering"),
    ("建筑工程系", "Civil Engineering"),
    ("电子信息工程系", "Electronic Information Engineering"),
    ("现代物流系", "Modern Logistics"),
    ("护理系", "Nursing"),
    ("旅游管理系", "Tourism Management"),
    ("艺术设计系", "Art and Design"),
)
CITIES = (
    "深圳",
    "苏州",
    "杭州",
    "广州",
    "武汉",
    "成都",
    "西安",
    "长沙",
    "合肥",
    "无锡",
)
SECTORS = ("人工智能", "工业机器人", "智能制造", "云计算", "电子商务", "智慧物流",
           "新能源汽车", "集成电路", "建筑信息化", "数字创意")  # fmt: skip
TOPICS = ("大模型在职业教育中的应用", "工业互联网平台实践", "新能源汽车检测技术",
          "智能产线运维", "数字孪生工厂", "跨境电商运营", "BIM 协同设计", "护理信息化",
          "机器视觉质检", "5G 工业应用", "产教融合实训基地建设", "课程思政与专业教学",
          "1+X 证书制度", "数据标注与治理", "智慧旅游服务")  # fmt: skip
CERTIFICATES = ("人工智能训练师", "工业机器人系统运维员", "电子商务师", "物流管理师",
                "数据分析师", "网络与信息安全管理员")  # fmt: skip
KIND_WEIGHTS = (
    ("expert_lecture", 28), ("industry_conference", 14), ("seminar", 20),
    ("training", 22), ("enterprise_placement", 8), ("certificate", 3),
    ("standard_drafting", 2), ("enterprise_project", 3),
)  # fmt: skip
EVENT_KIND_TITLES = {
    "expert_lecture": "专家讲座：{}",
    "industry_conference": "{}产业发展大会",
    "seminar": "{}专题研讨会",
}


# --- where the database lives -------------------------------------------------------


def tag(size: int, colleges: int = 1) -> str:
    """How files and databases of one shape are named: ``3000``, ``60000c100``."""
    return str(size) if colleges == 1 else f"{size}c{colleges}"


def database_name(size: int, colleges: int = 1) -> str:
    """The PostgreSQL database of one shape (never the shared `test` database)."""
    return f"bench_{tag(size, colleges)}"


def sqlite_path(size: int, colleges: int = 1) -> Path:
    """The SQLite file of one shape."""
    return OUT / f"db-sqlite-{tag(size, colleges)}.sqlite"


def database_url(kind: str, size: int, colleges: int = 1) -> str:
    """SQLAlchemy URL of the benchmark database of this kind and shape."""
    if kind == "postgresql":
        base = PG_ADMIN.rsplit("/", 1)[0]
        base = base.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{database_name(size, colleges)}"
    return f"sqlite:///{sqlite_path(size, colleges)}"


def meta_path(kind: str, size: int, colleges: int = 1) -> Path:
    """The JSON file describing the cast of a generated database."""
    return OUT / f"db-{kind}-{tag(size, colleges)}.json"


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True)


def _pg_exists(name: str) -> bool:
    with _pg_admin() as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return found is not None


def _fresh_database(kind: str, size: int, colleges: int = 1) -> None:
    if kind == "postgresql":
        name = database_name(size, colleges)
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return
    path = sqlite_path(size, colleges)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def cached_meta(kind: str, size: int, colleges: int = 1) -> dict | None:
    """The meta of a usable cached database, else None."""
    path = meta_path(kind, size, colleges)
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    if meta.get("version") != GENERATOR_VERSION:
        return None
    made = date.fromisoformat(meta["generated_on"])
    if (local_today() - made).days > CACHE_DAYS:
        return None
    if kind == "postgresql" and not _pg_exists(database_name(size, colleges)):
        return None
    if kind == "sqlite" and not sqlite_path(size, colleges).is_file():
        return None
    try:  # migrations added since it was generated run on it, as on a deployment
        with _app(meta["url"]).app_context():
            upgrade()
            db.engine.dispose()
    except (CommandError, SQLAlchemyError):
        return None  # a migration that cannot run on it: generate afresh
    return meta


def _app(url: str) -> Any:
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-generate"})


def local_today() -> date:
    """Today in Asia/Shanghai."""
    return datetime.now(UTC).astimezone(ZONE).date()


# --- bulk writing ---------------------------------------------------------------------


class Writer:
    """Append rows to tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``, dicts keyed by column name.

        A column a row leaves out gets what the app's own insert would give it: the
        column's Python ``default`` (a value or a callable), else its server default
        (the column is then left out of the statement, so the database fills it),
        else NULL. Bulk writing bypasses the ORM, so without this every column a
        migration adds would have to be named here by hand.
        """
        if not rows:
            return
        fills = _fills(table, rows)
        names = list(fills)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

        def complete(row: dict[str, Any]) -> dict[str, Any]:
            return {n: row[n] if n in row else fills[n]() for n in names}

        if self.pg:
            json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
            raw = self.conn.connection.driver_connection
            columns = ", ".join(f'"{n}"' for n in names)
            with (
                raw.cursor() as cur,
                cur.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
            ):
                for row in map(complete, rows):
                    copy.write_row(
                        tuple(
                            json.dumps(row[n], ensure_ascii=False)
                            if n in json_cols
                            else row[n]
                            for n in names
                        )
                    )
            return
        for start in range(0, len(rows), 20_000):
            chunk = [complete(row) for row in rows[start : start + 20_000]]
            self.conn.execute(table.insert(), chunk)


def _fills(table: Table, rows: list[dict[str, Any]]) -> dict[str, Callable[[], Any]]:
    """The columns to write, each with what fills it in a row that leaves it out."""
    named = set().union(*rows)
    fills: dict[str, Callable[[], Any]] = {}
    for col in table.columns:
        default, where = col.default, f"{table.name}.{col.name}"
        if default is not None and default.is_scalar:
            fills[col.name] = lambda value=default.arg: value
        elif default is not None and default.is_callable:
            fills[col.name] = lambda fn=default.arg: fn(None)  # SQLAlchemy's wrapper
        elif col.server_default is not None and col.name not in named:
            continue  # the database fills it
        elif default is None and col.server_default is None and col.nullable:
            fills[col.name] = lambda: None
        else:
            fills[col.name] = _refuse(where)
    return fills


def _refuse(where: str) -> Callable[[], Any]:
    """For a row leaving out a column whose default cannot be computed here."""

    def refuse() -> Any:
        raise ValueError(
            f"{where}: a row leaves it out and it has no Python default (NOT NULL, "
            "or a server default, used only when no row names it): give it in every row"
        )

    return refuse


# --- the institution's shape -----------------------------------------------------------


def department_sizes(size: int) -> list[int]:
    """Sizes of the departments: the growth departments first, then the rest."""
    sizes: list[int] = []
    left = size
    for wanted in GROWTH_SIZES:
        if wanted <= left:
            sizes.append(wanted)
            left -= wanted
    if not sizes:
        return [size]
    while left > 0:
        chunk = min(OTHER_DEPARTMENT_SIZE, left)
        sizes.append(chunk)
        left -= chunk
    return sizes


@dataclass
class Clock:
    """Dates of the generation: today local, and now as aware UTC."""

    today: date
    now: datetime

    def midnight(self, day: date) -> datetime:
        """A local date's midnight, as UTC."""
        return datetime.combine(day, dtime(), ZONE).astimezone(UTC)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A local wall-clock time, as UTC."""
        return datetime.combine(day, dtime(hour, minute), ZONE).astimezone(UTC)


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def _token(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(rng.choice(alphabet) for _ in range(43))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --- rows -----------------------------------------------------------------------------


def activity_rows(
    rng: random.Random,
    clock: Clock,
    teacher_id: int,
    count: int,
    first_id: int,
    reviewer_id: int | None,
    enterprise_ids: list[int],
) -> list[dict[str, Any]]:
    """``count`` activities of one teacher over five years and the next six months."""
    rows = []
    span = 5 * 365 + 180
    for i in range(count):
        kind = _weighted(rng, KIND_WEIGHTS)
        start = clock.today - timedelta(days=5 * 365) + timedelta(rng.randrange(span))
        topic = rng.choice(TOPICS)
        row: dict[str, Any] = {
            "id": first_id + i,
            "teacher_id": teacher_id,
            "kind_code": kind,
            "starts_on": start,
            "ends_on": start,
            "role": "attendee",
            "source": "self",
            "location": rng.choice(CITIES),
        }
        if kind in ("expert_lecture", "seminar"):
            row["title"] = f"{topic}{'讲座' if kind == 'expert_lecture' else '研讨'}"
            morning = rng.random() < 0.5
            row["start_time"] = dtime(9) if morning else dtime(14)
            row["end_time"] = dtime(12) if morning else dtime(17)
            row["hours"] = Decimal(rng.choice((2, 3, 3, 4)))
            row["organizer"] = f"{rng.choice(CITIES)}职业教育学会"
            row["role"] = rng.choices(
                ("attendee", "speaker", "organizer"), weights=(85, 10, 5)
            )[0]
        elif kind == "industry_conference":
            row["title"] = f"{rng.choice(SECTORS)}行业年会"
            row["ends_on"] = start + timedelta(days=rng.randrange(3))
            row["hours"] = Decimal(6 * ((row["ends_on"] - start).days + 1))
            row["organizer"] = f"中国{rng.choice(SECTORS)}产业联盟"
        elif kind == "training":
            row["title"] = f"{topic}师资培训班"
            row["ends_on"] = start + timedelta(days=rng.randrange(5))
            row["hours"] = Decimal(8 * ((row["ends_on"] - start).days + 1))
            row["organizer"] = "省职业教育师资培训中心"
        elif kind == "enterprise_placement":
            days = rng.randrange(5, 31)
            row["title"] = f"企业实践：{rng.choice(SECTORS)}"
            row["ends_on"] = start + timedelta(days=days - 1)
            row["days"] = days
            row["enterprise_id"] = rng.choice(enterprise_ids)
        elif kind == "certificate":
            row["title"] = f"{rng.choice(CERTIFICATES)}证书"
            row["grade"] = rng.choice(("primary", "intermediate", "senior"))
            row["ends_on"] = start + timedelta(days=3 * 365)
        elif kind == "standard_drafting":
            row["title"] = f"参与制订《{topic}》团体标准"
        else:
            row["title"] = f"{rng.choice(SECTORS)}技术攻关项目"
            row["ends_on"] = start + timedelta(days=rng.randrange(30, 181))
            row["enterprise_id"] = rng.choice(enterprise_ids)
        _activity_status(rng, clock, row, reviewer_id)
        rows.append(row)
    return rows


def _activity_status(
    rng: random.Random, clock: Clock, row: dict[str, Any], reviewer_id: int | None
) -> None:
    start: date = row["starts_on"]
    created = clock.at(start, 8) - timedelta(days=rng.randrange(1, 20))
    if start > clock.today:
        row["status"] = "planned"
    else:
        r = rng.random()
        if r < 0.62:
            row["status"] = "verified"
            verified = clock.at(start, 10) + timedelta(days=rng.randrange(3, 30))
            row["verified_at"] = min(verified, clock.now)
            row["verified_by_id"] = reviewer_id
        elif r < 0.92:
            row["status"] = "completed"
        elif r < 0.97:
            row["status"] = "planned"
        else:
            row["status"] = "rejected"
            row["rejection_reason"] = "请补充盖章的证明材料。"
        created = min(clock.at(start, 20) + timedelta(days=rng.randrange(5)), clock.now)
    row["created_at"] = row["updated_at"] = min(created, clock.now)


def event_rows(rng: random.Random, clock: Clock) -> list[dict[str, Any]]:
    """The association's events over five years back and eighteen months ahead."""
    rows = []
    span = 5 * 365 + 548
    for i in range(EVENTS):
        event_id = i + 1
        kind = rng.choice(tuple(EVENT_KIND_TITLES))
        day = clock.today - timedelta(days=5 * 365) + timedelta(rng.randrange(span))
        topic = rng.choice(TOPICS if kind != "industry_conference" else SECTORS)
        row: dict[str, Any] = {
            "id": event_id,
            "kind_code": kind,
            "title": EVENT_KIND_TITLES[kind].format(topic),
            "description": f"本次活动围绕“{topic}”展开，欢迎各院校专业教师报名参加。"
            "请携带笔记本电脑，并提前十分钟签到。",
            "speakers": f"{_name(rng)}教授；{_name(rng)}高级工程师",
            "location": f"{rng.choice(CITIES)}国际会议中心 {rng.randrange(1, 9)} 号厅",
            "tzid": "Asia/Shanghai",
            "exdates": [],
            "uid": f"ev-{event_id}@bench.pdtracker.local",
            "recurrence_key": "",
            "sequence": rng.choice((0, 0, 0, 1, 2)),
            "capacity": rng.choice((None, None, 200, 500, 1000, 3000)),
            "credited_hours": Decimal(rng.choice((2, 3, 4, 6))),
        }
        if kind == "industry_conference" and rng.random() < 0.5:
            days = rng.randrange(1, 4)
            row |= {
                "is_all_day": True,
                "start_on": day,
                "end_on": day + timedelta(days=days),
                "starts_at": clock.midnight(day),
                "ends_at": clock.midnight(day + timedelta(days=days)),
                "credited_hours": Decimal(6 * days),
            }
            row["series_ends_at"] = row["ends_at"]
        else:
            hour = rng.choice((9, 14))
            row |= {
                "is_all_day": False,
                "starts_at": clock.at(day, hour),
                "ends_at": clock.at(day, hour + 3),
            }
            row["series_ends_at"] = row["ends_at"]
            if kind == "seminar" and rng.random() < 0.15:
                row["rrule"] = "FREQ=WEEKLY;COUNT=6"
                row["series_ends_at"] = row["ends_at"] + timedelta(weeks=5)
        created = min(
            row["starts_at"] - timedelta(days=rng.randrange(14, 60)), clock.now
        )
        row["created_at"] = row["updated_at"] = created
        row["registration_deadline"] = row["starts_at"] - timedelta(days=2)
        r = rng.random()
        if r < 0.94:
            row["status"] = "published"
        elif r < 0.97:
            row["status"] = "cancelled"
            row["cancelled_at"] = min(created + timedelta(days=7), clock.now)
        else:
            row["status"] = "draft"
        rows.append(row)
    return rows


def registration_rows(
    rng: random.Random,
    clock: Clock,
    teacher_id: int,
    events: list[dict[str, Any]],
    first_id: int,
) -> list[dict[str, Any]]:
    """A registration of one teacher for each of ``events``."""
    rows = []
    for i, event in enumerate(events):
        past = event["ends_at"] < clock.now
        if past:
            status = rng.choices(
                ("attended", "registered", "cancelled"), weights=(70, 15, 15)
            )[0]
        else:
            status = rng.choices(
                ("registered", "waitlisted", "cancelled"), weights=(85, 5, 10)
            )[0]
        queued = min(
            event["starts_at"] - timedelta(days=rng.randrange(1, 30)), clock.now
        )
        rows.append(
            {
                "id": first_id + i,
                "event_id": event["id"],
                "teacher_id": teacher_id,
                "status": status,
                "queued_at": queued,
                "cancelled_at": queued + timedelta(hours=5)
                if status == "cancelled"
                else None,
                "attended_at": event["ends_at"] if status == "attended" else None,
                "created_at": queued,
                "updated_at": queued,
            }
        )
    return rows


def placement_rows(
    rng: random.Random,
    clock: Clock,
    teacher_id: int,
    starts: list[date],
    first_id: int,
    planner_id: int | None,
    enterprise_ids: list[int],
) -> list[dict[str, Any]]:
    """One placement of one teacher starting on each of ``starts``."""
    rows = []
    for i, start in enumerate(starts):
        placement_id = first_id + i
        end = start + timedelta(days=rng.randrange(14, 61))
        row: dict[str, Any] = {
            "id": placement_id,
            "teacher_id": teacher_id,
            "enterprise_id": rng.choice(enterprise_ids),
            "planned_by_id": planner_id,
            "starts_on": start,
            "ends_on": end,
            "working_days": weekdays_between(start, end),
            "mentor_name": _name(rng),
            "mentor_contact": f"138{rng.randrange(10**8):08d}",
            "tasks": "参与产线调试与工艺改进，整理教学案例。",
            "notes": "仅教师与系主任可见。",
            "sequence": rng.choice((0, 0, 1)),
        }
        if start > clock.today:
            row["status"] = rng.choice(("proposed", "approved"))
        elif end >= clock.today:
            row["status"] = "in_progress"
        elif rng.random() < 0.85:
            row["status"] = "completed"
            row["report_stored_name"] = f"bench-report-{placement_id}.pdf"
            row["report_original_name"] = "企业实践报告.pdf"
            row["report_content_type"] = "application/pdf"
        else:
            row["status"] = "cancelled"
            row["cancel_reason"] = "企业接收计划调整。"
        created = min(clock.at(start, 9) - timedelta(days=30), clock.now)
        row["created_at"] = created
        row["updated_at"] = min(created + timedelta(days=rng.randrange(60)), clock.now)
        rows.append(row)
    return rows


# --- the whole institution --------------------------------------------------------------


def _tables() -> dict[str, Table]:
    return db.metadata.tables  # type: ignore[return-value]


def generate(kind: str, size: int, *, colleges: int = 1, log: Any = print) -> dict:
    """Create the database of this kind and shape from nothing; return its meta.

    ``colleges`` member colleges share the ``size`` teachers: the first holds the
    departments the pages are measured at (300, 30 and 1,000 teachers), the other
    departments go to the colleges in turn.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    _fresh_database(kind, size, colleges)
    url = database_url(kind, size, colleges)
    with _app(url).app_context():
        upgrade()  # the migrations' schema, as `flask db upgrade` builds it
        ensure_activity_kinds()
        db.session.commit()
        with db.engine.begin() as conn:
            meta = _populate(Writer(conn), size, log, colleges)
        # Statistics first: without them PostgreSQL scans every activity for each
        # batch of teachers (at 60,000 teachers a batch took 15 s instead of 0.2 s).
        _analyze(kind)
        # What the standings tick would have stored by now (the dashboard reads it).
        began = time.monotonic()
        standings.refresh(full=True)
        db.session.commit()
        meta["standings_seconds"] = round(time.monotonic() - began, 1)
        log(f"  standings stored in {meta['standings_seconds']} s")
        _finish(kind)
        db.engine.dispose()
    meta |= {
        "version": GENERATOR_VERSION,
        "db": kind,
        "size": size,
        "colleges": colleges,
        "url": url,
        "password": PASSWORD,
        "generated_on": local_today().isoformat(),
        "generate_seconds": round(time.monotonic() - started, 1),
    }
    meta_path(kind, size, colleges).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2)
    )
    log(
        f"generated {kind} {tag(size, colleges)}: {meta['counts']} "
        f"in {meta['generate_seconds']} s"
    )
    return meta


def college_rows(colleges: int) -> list[dict[str, Any]]:
    """The member colleges: the first keeps the single-college benchmark's code."""
    return [
        {"id": 1, "code": "BENCH", "name": "基准职业技术学院"},
        *(
            {"id": i, "code": f"BENCH{i:03d}", "name": f"基准职业技术学院（{i}）"}
            for i in range(2, colleges + 1)
        ),
    ]


def college_of_departments(count: int, colleges: int) -> list[int]:
    """Each department's college: the measured departments in the first, the
    others in turn across every college."""
    growth = min(count, len(GROWTH_SIZES))
    return [1] * growth + [1 + k % colleges for k in range(count - growth)]


def _populate(w: Writer, size: int, log: Any, colleges: int = 1) -> dict:
    t = _tables()
    rng = random.Random(SEED + size)
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(today=now.astimezone(ZONE).date(), now=now)
    password_hash = generate_password_hash(PASSWORD, method="scrypt")

    w.write(t["institutions"], college_rows(colleges))
    sizes = department_sizes(size)
    college_of = college_of_departments(len(sizes), colleges)
    departments = []
    for i, _n in enumerate(sizes):
        zh, en = DEPARTMENT_NAMES[i % len(DEPARTMENT_NAMES)]
        suffix = (
            "" if i < len(DEPARTMENT_NAMES) else f"（{i // len(DEPARTMENT_NAMES) + 1}）"
        )
        departments.append(
            {
                "id": i + 1,
                "institution_id": college_of[i],
                "code": f"D{i + 1:03d}",
                "name": zh + suffix,
                "name_en": en,
            }
        )
    w.write(t["departments"], departments)
    enterprises = [
        {
            "id": i + 1,
            "name": f"{rng.choice(CITIES)}{rng.choice(SECTORS)}科技有限公司（{i + 1}）",
            "sector": rng.choice(SECTORS),
            "city": rng.choice(CITIES),
            "contact_name": _name(rng),
            "contact_phone": f"0755-{rng.randrange(10**7):07d}",
            "placement_capacity": rng.randrange(1, 5),
            "created_at": clock.now - timedelta(days=5 * 365),
        }
        for i in range(ENTERPRISES)
    ]
    w.write(t["enterprises"], enterprises)
    enterprise_ids = [e["id"] for e in enterprises]

    # Teachers 1..size, department by department; heads after them.
    dept_of: list[int] = []
    for dept, n in zip(departments, sizes, strict=True):
        dept_of.extend([dept["id"]] * n)
    heads: dict[str, dict[str, Any]] = {}
    head_of_dept: dict[int, int] = {}
    head_rows = []
    for i, n in enumerate(sizes[: len(GROWTH_SIZES)]):
        head_id = size + i + 1
        head_rows.append((head_id, f"head-{n}", departments[i]["id"]))
        head_of_dept[departments[i]["id"]] = head_id
        heads[str(n)] = {"id": head_id, "username": f"head-{n}"}

    users, roles, profiles = [], [], []
    for teacher_id in range(1, size + 1):
        users.append(
            _user(teacher_id, f"t{teacher_id:06d}", _name(rng), dept_of[teacher_id - 1],
                  password_hash, clock, college_of[dept_of[teacher_id - 1] - 1])
        )  # fmt: skip
        roles.append({"user_id": teacher_id, "role": "teacher"})
        profiles.append(
            {
                "user_id": teacher_id,
                "institution_id": college_of[dept_of[teacher_id - 1] - 1],
                "staff_number": f"B{teacher_id:06d}",
                "title": rng.choice(("讲师", "副教授", "教授", "高级讲师", None)),
                "is_professional_course": rng.random() < 0.9,
                "prior_industry_years": rng.choice((0, 0, 0, 1, 2, 3, 5)),
            }
        )
    for head_id, username, dept_id in head_rows:
        users.append(
            _user(head_id, username, _name(rng), dept_id, password_hash, clock,
                  college_of[dept_id - 1])
        )  # fmt: skip
        roles.append({"user_id": head_id, "role": "head"})
    # The association's staff (the dashboard across colleges): no college.
    staff_id = size + len(head_rows) + 1
    staff = _user(
        staff_id, STAFF_USERNAME, "协会秘书处", None, password_hash, clock, None
    )
    users.append(staff)
    roles.append({"user_id": staff_id, "role": "staff"})
    w.write(t["users"], users)
    w.write(t["user_roles"], roles)
    w.write(t["teacher_profiles"], profiles)
    del users, roles, profiles

    events = event_rows(rng, clock)
    w.write(t["events"], events)
    window_start = clock.now - timedelta(days=60)
    window_end = clock.now + timedelta(days=540)
    in_window = [
        e
        for e in events
        if e["status"] == "published" and window_start <= e["starts_at"] < window_end
    ]
    visible = [e for e in events if e["status"] != "draft"]

    bench_id = 1
    activity_id = registration_id = placement_id = 1
    batch: dict[str, list] = {"activities": [], "registrations": [], "placements": []}
    for teacher_id in range(1, size + 1):
        reviewer = head_of_dept.get(dept_of[teacher_id - 1])
        count = 100 if teacher_id == bench_id else rng.randint(80, 120)
        acts = activity_rows(
            rng, clock, teacher_id, count, activity_id, reviewer, enterprise_ids
        )
        activity_id += len(acts)
        batch["activities"].extend(acts)
        if teacher_id == bench_id:
            chosen = rng.sample(in_window, min(122, len(in_window)))
            starts = [
                clock.today - timedelta(days=400),
                clock.today - timedelta(days=50),
                clock.today + timedelta(days=30),
            ]
        else:
            chosen = rng.sample(visible, rng.randint(8, 16))
            starts = [
                clock.today - timedelta(days=5 * 365) + timedelta(rng.randrange(2000))
                for _ in range(rng.randint(1, 3))
            ]
        regs = registration_rows(rng, clock, teacher_id, chosen, registration_id)
        registration_id += len(regs)
        batch["registrations"].extend(regs)
        places = placement_rows(
            rng, clock, teacher_id, starts, placement_id, reviewer, enterprise_ids
        )
        placement_id += len(places)
        batch["placements"].extend(places)
        if len(batch["activities"]) >= 100_000 or teacher_id == size:
            for name, rows in batch.items():
                w.write(t[name], rows)
                rows.clear()
            log(f"  {teacher_id}/{size} teachers written")

    tokens = {"teacher": _token(rng), "department": _token(rng)}
    head_300 = heads[str(GROWTH_SIZES[0])]["id"]
    w.write(
        t["feed_tokens"],
        [
            {"id": 1, "user_id": bench_id, "scope": "teacher",
             "token": tokens["teacher"], "created_at": clock.now},
            {"id": 2, "user_id": head_300, "scope": "department",
             "token": tokens["department"], "created_at": clock.now},
        ],
    )  # fmt: skip
    _fix_sequences(w.conn)
    return {
        "bench_teacher": {"id": bench_id, "username": f"t{bench_id:06d}"},
        "feed_token": tokens["teacher"],
        "department_token": tokens["department"],
        "heads": heads,
        "staff": {"id": staff_id, "username": STAFF_USERNAME},
        "department_sizes": sizes,
        "department_colleges": college_of,
        "burst_teachers": [f"t{i:06d}" for i in range(2, 2 + BURST_TEACHERS)],
        "events_in_window": len(in_window),
        "counts": dict(w.counts),
    }


def _user(
    user_id: int,
    username: str,
    name: str,
    department_id: int | None,
    password_hash: str,
    clock: Clock,
    institution_id: int | None = 1,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "display_name": name,
        "email": f"{username}@bench.edu.cn",
        "password_hash": password_hash,
        "is_active": True,
        "session_version": 1,
        "department_id": department_id,
        "institution_id": institution_id,
        "locale": "zh_Hans_CN",
        "timezone": "Asia/Shanghai",
        "created_at": clock.now - timedelta(days=6 * 365),
        "updated_at": clock.now - timedelta(days=6 * 365),
    }


def _fix_sequences(conn: Connection) -> None:
    """Explicit ids were written: move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )


def _analyze(kind: str) -> None:
    """Planner statistics of the freshly written tables."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _finish(kind: str) -> None:
    """Statistics for the planner, as a maintained database would have them."""
    if kind == "postgresql":
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def ensure(
    kind: str,
    size: int,
    *,
    colleges: int = 1,
    regenerate: bool = False,
    log: Any = print,
) -> dict:
    """The meta of the database of this kind and shape, generating it when needed."""
    if not regenerate:
        meta = cached_meta(kind, size, colleges)
        if meta is not None:
            log(f"using cached {kind} database of {size} teachers, {colleges} colleges")
            return meta
    return generate(kind, size, colleges=colleges, log=log)


def main(argv: Iterable[str] | None = None) -> None:
    """Generate one database from the command line."""
    global OUT  # --out moves every path of this run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True, help=f"at least {MIN_SIZE}")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--colleges", type=int, default=1,
        help="member colleges sharing the teachers (association scale: 100)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, help=f"directory of the database and its cast ({OUT})"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.size < MIN_SIZE:
        parser.error(f"the smallest size is {MIN_SIZE} teachers")
    if args.colleges < 1:
        parser.error("at least one college")
    if args.out is not None:
        OUT = args.out.resolve()
    generate(args.db, args.size, colleges=args.colleges)


if __name__ == "__main__":
    main()
