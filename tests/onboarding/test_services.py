"""Services directly: a bounded number of queries, activation links, head scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pdtracker.auth.models import Role, User
from pdtracker.extensions import db
from pdtracker.onboarding import activation
from pdtracker.onboarding.errors import FileRefused
from pdtracker.onboarding.plan import ImportNotAllowed
from pdtracker.onboarding.services import run_import
from pdtracker.timeutil import utcnow
from tests.onboarding.conftest import sample, xlsx

HEADER = ("工号", "项目名称", "类型", "开始日期", "结束日期", "学时", "主办单位")


def records_file(n: int) -> bytes:
    rows = [("00123" if i % 2 else "00125", f"培训 {i}", "培训", "2024-03-01",
             "2024-03-02", 8, "协会") for i in range(n)]  # fmt: skip
    return xlsx(HEADER, *rows)


def _import(importer: str, data: bytes, actor=None, **kw):
    plan, applied = run_import(importer, data, filename="f.xlsx", actor=actor,
                               now=utcnow(), **kw)  # fmt: skip
    db.session.commit()
    return plan, applied


@pytest.fixture
def people(app, college):
    with app.app_context():
        _, applied = _import("people", sample("people.xlsx"))
        return {a.staff_number: a for a in applied.accounts}


def test_queries_do_not_grow_with_the_rows(app, people, count_queries):
    def statements(n: int) -> int:
        data = records_file(n)
        with app.app_context(), count_queries() as counter:
            _import("records", data)
        return counter.count

    small, large = statements(10), statements(300)
    assert large <= small + 2, (small, large)
    with app.app_context():
        again = records_file(300)
        with count_queries() as counter:
            plan, _ = _import("records", again)
        assert plan.summary()["unchanged"] == 300
        assert counter.count <= small + 2


def test_activation_link_sets_the_password_once(app, people):
    token = people["00123"].token
    now = utcnow()
    with app.app_context():
        assert activation.is_usable(token, now)
        user = activation.activate(token, "a long new password", now)
        db.session.commit()
        assert user.username == "00123"
        assert user.check_password("a long new password")
        assert activation.activate(token, "another password!", now) is None
        assert not activation.is_usable(token, now)


def test_activation_link_expires_after_14_days(app, people):
    token = people["00124"].token
    with app.app_context():
        created = db.session.scalar(
            select(activation.T.created_at).where(
                activation.T.token_hash == activation.token_hash(token)
            )
        )
        late = created + timedelta(days=14)
        assert activation.is_usable(token, late - timedelta(seconds=1))
        assert activation.activate(token, "a long new password", late) is None
        assert (
            activation.activate("not-a-token", "a long new password", created) is None
        )


def test_a_head_imports_records_of_own_department_only(app, people, make_user):
    head = make_user("head9", Role.HEAD, Role.TEACHER, department=_dept(app, "AI"))
    data = xlsx(("工号", "项目名称", "类型", "开始日期"),
                ("00123", "甲", "培训", "2024-01-01"),  # 人工智能技术应用系
                ("00125", "乙", "培训", "2024-01-01"))  # 机电工程系  # fmt: skip
    with app.app_context():
        actor = db.session.get(User, head.id)
        plan, _ = _import("records", data, actor=actor)
        assert plan.summary()["created"] == 1
        assert [(e.row, e.code) for e in plan.errors] == [(3, "unknown_teacher")]
        for importer in ("people", "enterprises"):
            with pytest.raises(ImportNotAllowed):
                _import(importer, sample("people.xlsx"), actor=actor)


def _dept(app, code: str):
    from pdtracker.org.models import Department

    with app.app_context():
        dept = db.session.scalar(select(Department).filter_by(code=code))
        db.session.expunge(dept)
        return dept


def test_refused_file_raises(app, college):
    with app.app_context(), pytest.raises(FileRefused):
        run_import("people", b"\x00\x01", filename="x", actor=None, now=utcnow())
