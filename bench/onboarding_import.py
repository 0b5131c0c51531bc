"""Benchmark: a 10,000-row records file checked and applied, then imported again.

    python -m bench.onboarding_import [--db sqlite|postgresql://…] [--rows 10000]

Targets (issue 11): apply ≤ 10 s and re-import (all unchanged) ≤ 5 s, with a
number of SQL statements that does not grow with the rows. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import event

from pdtracker import create_app
from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.onboarding.services import run_import
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.reference import ensure_activity_kinds
from pdtracker.timeutil import utcnow
from tests.onboarding.conftest import xlsx

HEADER = ("工号", "培训项目", "培训类型", "培训开始时间", "培训结束时间", "获得学时",
          "培训单位")  # fmt: skip
TYPES = ("国培", "省培", "专家讲座", "行业会议", "研讨")


def records_file(rows: int, teachers: int) -> bytes:
    """A platform-style records file of that many rows over the teachers."""
    start = date(2021, 1, 4)
    data = []
    for i in range(rows):
        day = start + timedelta(days=i % 1500)
        data.append((f"T{i % teachers:05d}", f"培训项目 {i}", TYPES[i % len(TYPES)],
                     day, day + timedelta(days=1), 8, "省教师培训中心"))  # fmt: skip
    return xlsx(HEADER, *data)


def seed(teachers: int) -> None:
    """Departments and teachers, as a people import would have made them."""
    inst = Institution(code="BENCH", name="基准职业技术学院")
    dept = Department(institution=inst, code="AI", name="人工智能系")
    db.session.add(dept)
    for i in range(teachers):
        user = User(username=f"T{i:05d}", display_name=f"教师{i}", password_hash="!",
                    department=dept)  # fmt: skip
        user.set_roles({Role.TEACHER})
        user.teacher_profile = TeacherProfile(staff_number=f"T{i:05d}")
        db.session.add(user)
    ensure_activity_kinds()
    db.session.commit()


def timed(data: bytes, counter: list[int]) -> tuple[float, int, dict]:
    before = counter[0]
    started = time.perf_counter()
    plan, _ = run_import("records", data, filename="bench.xlsx", actor=None,
                         now=utcnow(), verified=True)  # fmt: skip
    db.session.commit()
    return time.perf_counter() - started, counter[0] - before, plan.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--teachers", type=int, default=300)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pdtracker-onboarding-bench-"))
    url = f"sqlite:///{scratch / 'bench.sqlite'}" if args.db == "sqlite" else args.db
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "UPLOAD_FOLDER": str(scratch)})  # fmt: skip
    data = records_file(args.rows, args.teachers)
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed(args.teachers)
        counter = [0]
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a: counter.__setitem__(0, counter[0] + 1))  # fmt: skip
        first = timed(data, counter)
        again = timed(data, counter)
        db.drop_all()
    print(json.dumps({
        "db": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], "rows": args.rows,
        "apply_s": round(first[0], 2), "apply_statements": first[1],
        "reimport_s": round(again[0], 2), "reimport_statements": again[1],
        "first": first[2], "again": again[2],
    }, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
