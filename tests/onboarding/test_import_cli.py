"""The importers end to end through the real command: counts, idempotence, updates,
duplicates, row errors, all-or-nothing, --dry-run, unreadable files."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from pdtracker.activities.models import Activity
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.onboarding.models import ActivationToken
from pdtracker.org.models import TeacherProfile
from pdtracker.placements.models import Enterprise
from tests.onboarding.conftest import csv_bytes, sample, xlsx

pytestmark = pytest.mark.usefixtures("college")

PEOPLE = sample("people.xlsx")
PLATFORM = sample("records_platform.xlsx")
LEDGER = sample("records_ledger_gb18030.csv")


def counts(created=0, updated=0, unchanged=0, duplicates=0, rows=None) -> dict:
    rows = created + updated + unchanged + duplicates if rows is None else rows
    return {"rows": rows, "created": created, "updated": updated,
            "unchanged": unchanged, "duplicates": duplicates}  # fmt: skip


def summary(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "errors"}


def test_json_report_has_exactly_the_documented_keys(run_cli):
    code, report = run_cli("people", PEOPLE)
    assert code == 0
    assert list(report) == ["rows", "created", "updated", "unchanged", "duplicates",
                            "errors"]  # fmt: skip


def test_people_sample_creates_accounts_without_passwords(app, run_cli, client, auth):
    code, report = run_cli("people", PEOPLE)
    assert (code, report) == (0, {**counts(created=4), "errors": []})
    with app.app_context():
        wang = db.session.scalar(select(User).filter_by(username="00123"))
        assert wang.display_name == "王芳"
        assert wang.teacher_profile.staff_number == "00123"
        assert wang.teacher_profile.id_number_hash  # a hash, 64 hex characters
        assert len(wang.teacher_profile.id_number_hash) == 64
        assert "110105" not in wang.teacher_profile.id_number_hash
        li = db.session.scalar(select(User).filter_by(username="00124"))
        assert {r.value for r in li.role_set} == {"teacher", "head"}
        assert li.teacher_profile.prior_industry_years == 2
        tokens = db.session.scalars(select(ActivationToken)).all()
        assert len(tokens) == 4
        assert {len(t.token_hash) for t in tokens} == {64}
    # No password works: not the demo one, not an empty one.
    assert auth.login("00123", "pdtracker-demo").status_code == 200
    assert auth.login("00123", "").status_code == 200
    assert client.get("/activities/").status_code == 302


def test_same_file_twice_changes_nothing(run_cli, table_counts):
    run_cli("people", PEOPLE)
    before = table_counts()
    code, report = run_cli("people", PEOPLE)
    assert (code, report) == (0, {**counts(unchanged=4), "errors": []})
    after = table_counts()
    assert after.pop("audit_log") == before.pop("audit_log") + 1  # the import itself
    assert after == before


def test_records_twice_all_unchanged(run_cli, table_counts):
    run_cli("people", PEOPLE)
    assert summary(run_cli("records", PLATFORM)[1]) == counts(created=5)
    assert summary(run_cli("records", LEDGER, name="l.csv")[1]) == counts(created=3)
    before = table_counts()
    assert summary(run_cli("records", PLATFORM)[1]) == counts(unchanged=5)
    assert summary(run_cli("records", LEDGER, name="l.csv")[1]) == counts(unchanged=3)
    after = table_counts()
    assert after.pop("audit_log") == before.pop("audit_log") + 2
    assert after == before


def test_imported_records_source_status_and_audit(app, run_cli):
    run_cli("people", PEOPLE)
    run_cli("records", PLATFORM, "--verified", name="platform.xlsx")
    run_cli("records", LEDGER, name="ledger.csv")
    with app.app_context():
        acts = db.session.scalars(select(Activity).order_by(Activity.starts_on)).all()
        assert {a.source for a in acts} == {"import"}
        by_title = {a.title: a for a in acts}
        national = by_title["职业院校教师素质提高计划（国培）"]
        assert (national.status, national.kind_code) == ("verified", "training")
        assert national.verified_at is not None
        assert national.hours == Decimal(80)
        assert national.organizer == "教育部职教师资基地"
        assert national.notes == "人工智能课程开发"
        assert by_title["校本研修：项目化教学"].status == "completed"  # to be verified
        assert by_title["新教师培训主讲"].role == "speaker"
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "import.records")
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
        assert [e.details["verified"] for e in entries] == [True, False]
        assert entries[0].details["filename"] == "platform.xlsx"
        assert len(entries[0].details["sha256"]) == 64
        assert entries[0].details["created"] == 5


def test_a_changed_row_updates(app, run_cli):
    run_cli("people", PEOPLE)
    header = ("工号", "姓名", "院系", "职称", "角色")
    changed = xlsx(header, ("00123", "王芳", "机电工程系", "副教授", "教师、系主任"),
                   ("00125", "张伟", "机电工程系", "高级工程师", "教师"))  # fmt: skip
    code, report = run_cli("people", changed)
    assert summary(report) == counts(updated=1, unchanged=1)
    with app.app_context():
        wang = db.session.scalar(select(User).filter_by(username="00123"))
        assert wang.teacher_profile.title == "副教授"
        assert wang.department.code == "ME"
        assert {r.value for r in wang.role_set} == {"teacher", "head"}
        assert wang.email == "wangfang@example.edu.cn"  # no column: kept


def test_rows_matching_each_other_are_duplicates_after_the_first(app, run_cli):
    run_cli("people", PEOPLE)
    header = ("工号", "项目名称", "类型", "开始日期", "学时", "主办单位")
    row = ("00123", "讲座甲", "讲座", "2024-03-01", 2, "协会")
    code, report = run_cli("records", xlsx(header, row, row, (*row[:4], 3, "协会")))
    assert summary(report) == counts(created=1, duplicates=2)
    with app.app_context():
        assert db.session.scalar(select(Activity.hours)) == Decimal(2)  # the first


def test_external_id_column_matches_records(app, run_cli):
    run_cli("people", PEOPLE)
    header = ("记录编号", "工号", "项目名称", "类型", "开始日期", "学时")
    run_cli("records", xlsx(header, ("R1", "00123", "旧名", "培训", "2024-03-01", 2)))
    code, report = run_cli(
        "records", xlsx(header, ("R1", "00123", "新名", "培训", "2024-03-01", 2))
    )
    assert summary(report) == counts(updated=1)
    with app.app_context():
        assert db.session.scalars(select(Activity.title)).all() == ["新名"]


def test_enterprises_by_credit_code_or_exact_name(app, run_cli):
    assert summary(run_cli("enterprises", sample("enterprises.xlsx"))[1]) == counts(
        created=3
    )
    assert summary(run_cli("enterprises", sample("enterprises.xlsx"))[1]) == counts(
        unchanged=3
    )
    header = ("企业名称", "统一社会信用代码", "可接收人数")
    with app.app_context():
        code = db.session.scalar(
            select(Enterprise.credit_code).filter_by(name="深圳智造科技有限公司")
        )
    renamed = xlsx(header, ("深圳智造科技股份有限公司", code, 5),
                   ("佛山精工机械厂", None, 4))  # fmt: skip
    assert summary(run_cli("enterprises", renamed)[1]) == counts(updated=2)
    with app.app_context():
        names = set(db.session.scalars(select(Enterprise.name)))
        assert "深圳智造科技股份有限公司" in names
        assert len(names) == 3


ERRORS = [
    ("people", ("工号", "姓名", "院系"), ("9", "甲", "外语系"), "unknown_department"),
    ("people", ("工号", "姓名", "邮箱"), ("9", "甲", "x@y"), "invalid_email"),
    ("people", ("工号", "姓名", "身份证号"), ("9", "甲", "110105198001010021"),
     "invalid_id_number"),
    ("people", ("工号", "姓名", "邮箱"), ("9", "甲", "wangfang@example.edu.cn"),
     "email_taken"),
    ("enterprises", ("企业名称", "统一社会信用代码"), ("甲", "91440300MA5F000010"),
     "invalid_credit_code"),
    ("records", ("工号", "项目名称", "类型", "开始日期", "结束日期"),
     ("00123", "x", "培训", "2024-03-02", "2024-03-01"), "end_before_start"),
    ("records", ("工号", "项目名称", "类型", "开始日期", "学时"),
     ("00123", "x", "培训", "2024-03-02", 25), "absurd_hours"),
    ("records", ("工号", "项目名称", "类型", "开始日期"),
     ("00123", "x", "培训", "2099-03-02"), "future_date"),
    ("records", ("工号", "项目名称", "类型", "开始日期"),
     ("99999", "x", "培训", "2024-03-02"), "unknown_teacher"),
    ("records", ("工号", "项目名称", "类型", "开始日期"),
     ("00123", "x", "春游", "2024-03-02"), "unknown_type"),
    ("records", ("工号", "项目名称", "类型", "开始日期"),
     ("00123", "x", "培训", "明天"), "invalid_date"),
]  # fmt: skip


@pytest.mark.parametrize(("importer", "header", "row", "code"), ERRORS,
                         ids=[e[3] for e in ERRORS])  # fmt: skip
def test_each_row_error_code_is_reported_and_the_good_rows_applied(
    run_cli, table_counts, importer, header, row, code
):
    run_cli("people", PEOPLE)
    good = {
        "people": ("8", "乙", *[None] * (len(header) - 2)),
        "enterprises": ("乙公司", None),
        "records": ("00123", "好", "培训", "2024-01-01", *[None] * (len(header) - 4)),
    }
    exit_code, report = run_cli(importer, xlsx(header, good[importer], row))  # fmt: skip
    assert exit_code == 0
    assert summary(report) == counts(created=1, rows=2)
    [error] = report["errors"]
    assert (error["row"], error["code"]) == (3, code)
    assert error["column"] in header
    assert error["message"]


@pytest.mark.parametrize(
    ("statement", "fail_at"),
    [("INSERT INTO activities", 2), ("INSERT INTO audit_log", 1)],
    ids=["second-activities-chunk", "audit-entry"],
)
def test_a_database_error_mid_apply_leaves_everything_as_it_was(
    app, run_cli, table_counts, monkeypatch, statement, fail_at
):
    from pdtracker.onboarding import apply

    run_cli("people", PEOPLE)
    before = table_counts()
    monkeypatch.setattr(apply, "INSERT_PAGE", 2)  # five rows: three INSERTs
    seen = []

    def fail(conn, cursor, sql, *args):
        if sql.startswith(statement):
            seen.append(sql)
            if len(seen) == fail_at:
                raise OperationalError(sql, {}, Exception("disk I/O error"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail)
    try:
        code, output = run_cli("records", PLATFORM)
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert code != 0, [x[:120] for x in seen]
    assert "disk I/O error" in output
    assert len(seen) == fail_at
    assert table_counts() == before
    assert summary(run_cli("records", PLATFORM)[1]) == counts(created=5)


def test_dry_run_writes_nothing_not_even_an_audit_entry(run_cli, table_counts):
    before = table_counts()
    code, report = run_cli("people", PEOPLE, "--dry-run")
    assert (code, summary(report)) == (0, counts(created=4))
    assert table_counts() == before


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"%PDF-1.4 not a spreadsheet\x00\x01", "x.pdf"),
     (csv_bytes("甲,乙,丙\n1,2,3\n"), "no-header.csv"),
     (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls")],
)  # fmt: skip
def test_an_unreadable_file_exits_2_with_one_line(run_cli, table_counts, data, name):
    before = table_counts()
    code, output = run_cli("people", data, name=name)
    assert code == 2
    assert len(output.strip().splitlines()) == 1
    assert name in output
    assert table_counts() == before


def test_saved_mapping_by_name(app, run_cli):
    from pdtracker.onboarding.services import save_mapping

    run_cli("people", PEOPLE)
    header = ("人员", "课程", "种类", "日期")
    data = xlsx(header, ("00123", "讲座乙", "讲座", "2024-05-01"))
    assert run_cli("records", data)[0] == 2  # no header recognised
    with app.app_context():
        admin = db.session.scalar(select(User).filter_by(username="admin"))
        save_mapping("records", "某平台", {"人员": "staff_number", "课程": "title",
                                          "种类": "kind", "日期": "starts_on"},
                     actor=admin, institution_id=None)  # fmt: skip
        db.session.commit()
    code, report = run_cli("records", data, "--mapping", "某平台")
    assert summary(report) == counts(created=1)
    with app.app_context():
        act = db.session.scalar(select(Activity))
        assert (act.title, act.starts_on) == ("讲座乙", date(2024, 5, 1))
        profile = db.session.get(TeacherProfile, act.teacher_id)
        assert profile.staff_number == "00123"


def test_without_json_the_new_accounts_links_are_printed_once(app, runner, tmp_path):
    from pdtracker.onboarding.activation import token_hash

    app.config["PUBLIC_BASE_URL"] = "https://pd.example.edu.cn/"
    path = tmp_path / "people.xlsx"
    path.write_bytes(PEOPLE)
    result = runner.invoke(args=["import", "people", str(path)])
    assert result.exit_code == 0
    tokens = re.findall(
        r"https://pd\.example\.edu\.cn/activate/([\w-]+)", result.output
    )
    assert len(tokens) == 4
    with app.app_context():
        stored = set(db.session.scalars(select(ActivationToken.token_hash)))
    assert {token_hash(t) for t in tokens} == stored
