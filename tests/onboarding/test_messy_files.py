"""Files as colleges really have them: numbers where text was meant, dates typed
every way, 工号 whose leading zeros Excel dropped, two-row headers. Through the
real command (SQLite, or PostgreSQL with PDTRACKER_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from pdtracker.extensions import db
from pdtracker.onboarding.checkdigits import credit_check_char, id_check_char
from pdtracker.org.models import TeacherProfile
from tests.onboarding.conftest import replace_member, sample, xlsx

pytestmark = pytest.mark.usefixtures("college")

PEOPLE = sample("people.xlsx")
ID = "11010519800101002" + id_check_char("11010519800101002")


def summary(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "errors"}


def codes(report: dict) -> list[tuple[int, str]]:
    return [(e["row"], e["code"]) for e in report["errors"]]


def number_cells(*rows: tuple) -> bytes:
    """An XLSX whose int cells hold all their digits in the XML, as a program
    (not Excel, not openpyxl) writes an 18-digit number."""
    data = xlsx(*rows)
    sheet = "xl/worksheets/sheet1.xml"
    xml = zipfile.ZipFile(io.BytesIO(data)).read(sheet).decode()
    for number, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            if isinstance(cell, int):
                ref = f"{chr(ord('A') + column)}{number}"
                xml = re.sub(f'(<c r="{ref}"[^>]*><v>)[^<]*', rf"\g<1>{cell}", xml)
    return replace_member(data, sheet, xml.encode())


def test_an_id_number_in_a_number_cell_is_read_not_a_crash(app, run_cli):
    # A program's export keeps all 18 digits in a number cell; Excel keeps 15
    # (1.10105198001010E+17), which no check digit can save: a row error.
    header = ("工号", "姓名", "身份证号")
    whole = number_cells(header, ("9", "甲", int(ID)))
    code, report = run_cli("people", whole)
    assert (code, summary(report)["created"], report["errors"]) == (0, 1, [])
    code, report = run_cli("people", xlsx(header, ("8", "乙", float(ID))))
    assert code == 0, report
    assert summary(report)["created"] == 0
    [error] = report["errors"]
    assert (error["row"], error["column"], error["code"]) == (
        2,
        "身份证号",
        "digits_lost",
    )
    with app.app_context():
        hashes = db.session.scalars(select(TeacherProfile.id_number_hash)).all()
        assert [len(h) for h in hashes if h] == [64]


def test_a_credit_code_in_a_number_cell_is_read_not_a_crash(run_cli):
    digits = "91110108000000000"
    number = int(digits + credit_check_char(digits))  # no letter: may come as a number
    header = ("企业名称", "统一社会信用代码")
    code, report = run_cli("enterprises", number_cells(header, ("甲公司", number)))
    assert (code, summary(report)["created"], report["errors"]) == (0, 1, [])
    code, report = run_cli("enterprises", xlsx(header, ("乙公司", float(number))))
    assert code == 0, report
    assert codes(report) == [(2, "digits_lost")]


DATES = [
    (20230506, "a number 20230506, as platforms export dates"),
    ("2023-05-06 00:00:00", "a date with a time, as databases export them"),
    ("2023/5/6 0:00", "a date-time cell saved by Excel as CSV"),
    ("2023-05-06T08:30:00", "ISO 8601 with a time"),
    ("2023年5月6日 8:30", "Chinese with a time"),
]


@pytest.mark.parametrize("cell", [d[0] for d in DATES], ids=[d[1] for d in DATES])
def test_dates_as_files_hold_them(app, run_cli, cell):
    from pdtracker.activities.models import Activity

    run_cli("people", PEOPLE)
    header = ("工号", "项目名称", "类型", "开始日期", "结束日期", "学时")
    code, report = run_cli(
        "records", xlsx(header, ("00123", "研修", "培训", cell, cell, 8))
    )
    assert (code, codes(report), summary(report)["created"]) == (0, [], 1)
    with app.app_context():
        act = db.session.scalar(select(Activity))
        assert (act.starts_on, act.ends_on) == (date(2023, 5, 6), date(2023, 5, 6))
    assert (
        summary(
            run_cli("records", xlsx(header, ("00123", "研修", "培训", cell, cell, 8)))[
                1
            ]
        )["unchanged"]
        == 1
    )


def test_a_staff_number_whose_leading_zeros_excel_dropped_finds_its_teacher(
    app, run_cli
):
    from pdtracker.activities.models import Activity

    run_cli("people", PEOPLE)  # 00123 … 00126, typed as text
    header = ("工号", "项目名称", "类型", "开始日期", "学时")
    # The platform's export holds 工号 as numbers: 00123 arrives as 123.
    data = xlsx(header, (123, "研修甲", "培训", "2024-03-01", 8),
                ("124", "研修乙", "培训", "2024-03-02", 8))  # fmt: skip
    code, report = run_cli("records", data)
    assert (code, codes(report), summary(report)["created"]) == (0, [], 2)
    with app.app_context():
        owners = db.session.execute(
            select(Activity.title, TeacherProfile.staff_number)
            .join(TeacherProfile, TeacherProfile.user_id == Activity.teacher_id)
            .order_by(Activity.title)
        ).all()
    assert [tuple(o) for o in owners] == [("研修乙", "00124"), ("研修甲", "00123")]


def test_leading_zeros_never_choose_between_two_teachers(run_cli):
    run_cli("people", PEOPLE)
    run_cli("people", xlsx(("工号", "姓名"), ("0123", "另一人")))
    header = ("工号", "项目名称", "类型", "开始日期", "学时")
    code, report = run_cli(
        "records", xlsx(header, (123, "研修", "培训", "2024-03-01", 8))
    )
    assert codes(report) == [(2, "unknown_teacher")]
    code, report = run_cli(
        "records", xlsx(header, ("0123", "研修", "培训", "2024-03-01", 8))
    )
    assert (codes(report), summary(report)["created"]) == ([], 1)  # written: exact


def test_a_people_file_with_staff_numbers_as_numbers_makes_no_second_account(
    run_cli, table_counts
):
    run_cli("people", PEOPLE)
    before = table_counts()
    header = ("工号", "姓名", "院系")
    data = xlsx(
        header, (123, "王芳", "人工智能技术应用系"), (125.0, "张伟", "机电工程系")
    )
    code, report = run_cli("people", data)
    assert (code, codes(report), summary(report)) == (
        0, [], {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "duplicates": 0}
    )  # fmt: skip
    after = table_counts()
    assert after.pop("audit_log") == before.pop("audit_log") + 1
    assert after == before


def two_row_header(*rows: tuple) -> bytes:
    """A platform's two-row header: 培训时间 merged over 开始日期 | 结束日期, the
    other columns' names merged down over both rows."""
    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "项目名称", "类型", "培训时间", None, "学时"])
    sheet.append([None, None, None, "开始日期", "结束日期", None])
    sheet.merge_cells("D1:E1")
    for column in "ABCF":
        sheet.merge_cells(f"{column}1:{column}2")
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_two_row_header_under_merged_cells_is_read(app, run_cli):
    from pdtracker.activities.models import Activity

    run_cli("people", PEOPLE)
    data = two_row_header(("00123", "研修", "培训", "2024-03-04", "2024-03-05", 16))
    code, report = run_cli("records", data)
    assert (code, codes(report), summary(report)["created"]) == (0, [], 1)
    with app.app_context():
        act = db.session.scalar(select(Activity))
        assert (act.starts_on, act.ends_on) == (date(2024, 3, 4), date(2024, 3, 5))
    assert summary(run_cli("records", data)[1])["unchanged"] == 1


def word_document() -> bytes:
    """A .docx (a zip, like an XLSX) that someone renamed .xlsx."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as docx:
        docx.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>'))  # fmt: skip
        docx.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


NOT_A_SPREADSHEET = "文件既不是 XLSX 工作簿，也不是 CSV 文件"


def test_a_renamed_word_document_is_not_a_spreadsheet(client, auth, run_cli):
    code, output = run_cli("people", word_document(), name="名单.xlsx")
    assert code == 2
    assert NOT_A_SPREADSHEET in output
    assert "KeyError" not in output
    auth.login("admin")
    response = client.post(
        "/imports/",
        data={"importer": "people", "file": (io.BytesIO(word_document()), "名单.xlsx")},
        content_type="multipart/form-data",
    )
    page = client.get(response.headers["Location"], follow_redirects=True)
    text = page.get_data(as_text=True)
    assert NOT_A_SPREADSHEET in text
    assert "KeyError" not in text


def test_a_mapping_that_finds_no_header_keeps_the_preview_and_the_choices(
    app, client, auth, run_cli, table_counts
):
    from pdtracker.onboarding.models import ImportMapping
    from tests.onboarding.test_views import form_fields, preview_path, upload

    run_cli("people", PEOPLE)
    auth.login("admin")
    header = ("工号", "项目名称", "类型", "开始日期")
    response = upload(
        client, "records", xlsx(header, ("00123", "研", "培训", "2024-03-01"))
    )
    path = preview_path(response)
    fields = form_fields(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    # The admin leaves out every required column by mistake, and asks to save it.
    fields.update(col_1="", col_2="", col_3="", save_as="坏的")
    before = table_counts()
    for step in ("/check", "/apply"):
        page = client.post(path + step, data=fields)
        assert page.status_code == 200, (step, page.headers.get("Location"))
        html = page.get_data(as_text=True)
        assert "前 30 行中没有找到表头" in html
        kept = form_fields(html)
        assert (kept["col_0"], kept["col_1"], kept["col_3"]) == ("staff_number", "", "")
        fields.pop("save_as", None)
    assert table_counts() == before  # nothing saved, nothing imported
    with app.app_context():
        assert db.session.scalar(select(ImportMapping)) is None


def test_the_data_sheet_after_an_instructions_sheet_is_read(app, run_cli, client, auth):
    from pdtracker.activities.models import Activity
    from tests.onboarding.test_views import form_fields, preview_path, upload

    run_cli("people", PEOPLE)
    book = Workbook()
    notes = book.active
    notes.title = "填写说明"
    notes.append(["请在“培训记录”表中填写，日期格式为 2024-03-01。"])
    data = book.create_sheet("培训记录")
    data.append(["工号", "项目名称", "类型", "开始日期", "学时"])
    data.append(["00123", "研修", "培训", "2024-03-01", 8])
    buffer = io.BytesIO()
    book.save(buffer)
    code, report = run_cli("records", buffer.getvalue(), "--dry-run")
    assert (code, codes(report), summary(report)["created"]) == (0, [], 1), report
    auth.login("admin")
    response = upload(client, "records", buffer.getvalue())
    path = preview_path(response)
    assert path.startswith("/imports/records/")
    fields = form_fields(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    client.post(path + "/apply", data=fields)
    with app.app_context():
        assert db.session.scalars(select(Activity.title)).all() == ["研修"]


def _apply_upload(client, importer: str, data: bytes) -> str:
    """Upload, preview, apply through the pages; the result page's HTML."""
    from tests.onboarding.test_views import form_fields, preview_path, upload

    response = upload(client, importer, data)
    fields = form_fields(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    return client.post(preview_path(response) + "/apply", data=fields).get_data(
        as_text=True
    )


def test_the_error_file_fixed_and_imported_again_keeps_its_values(app, client, auth):
    from openpyxl import load_workbook

    from pdtracker.auth.models import User

    auth.login("admin")
    header = ("工号", "姓名", "院系", "手机", "职称")
    html = _apply_upload(client, "people", xlsx(
        header, ("9001", "甲", "外语系", "+86 13800000009", "-")))  # fmt: skip
    download = re.search(r'href="(/imports/results/[^"]+\.xlsx)"', html).group(1)
    book = load_workbook(io.BytesIO(client.get(download).data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][4] == "'+86 13800000009"  # shown as text, never a formula
    # The admin fixes the department in the error file and imports it again.
    fixed = [list(r[1:-1]) for r in rows]
    fixed[1][2] = "机电工程系"
    _apply_upload(client, "people", xlsx(*fixed))
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="9001"))
        assert user.teacher_profile.phone == "+86 13800000009"
        assert user.teacher_profile.title == "-"


def test_a_staff_number_and_an_id_number_of_two_teachers_are_refused(
    run_cli, table_counts
):
    run_cli("people", PEOPLE)  # 00123 王芳 holds 110105198001010024
    before = table_counts()
    header = ("工号", "身份证号", "项目名称", "类型", "开始日期")
    data = xlsx(header, ("00124", "110105198001010024", "研修", "培训", "2024-03-01"),
                ("00123", "110105198001010024", "研修", "培训", "2024-03-01"))  # fmt: skip
    code, report = run_cli("records", data)
    assert (code, codes(report), summary(report)["created"]) == (
        0, [(2, "teacher_mismatch")], 1
    )  # fmt: skip
    assert report["errors"][0]["column"] == "身份证号"
    after = table_counts()
    assert after["activities"] == before["activities"] + 1


@pytest.mark.parametrize("roles", ["教师/系主任", "教师／系主任", "教师 系主任"])
def test_two_roles_written_with_a_slash_or_a_space(app, run_cli, roles):
    from pdtracker.auth.models import User

    code, report = run_cli("people", xlsx(("工号", "姓名", "角色"), ("9", "甲", roles)))
    assert (code, codes(report), summary(report)["created"]) == (0, [], 1)
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="9"))
        assert {r.value for r in user.role_set} == {"teacher", "head"}


def test_two_columns_of_one_name_keep_the_fields_chosen_for_each(
    app, client, auth, run_cli
):
    from pdtracker.activities.models import Activity
    from pdtracker.onboarding.models import ImportMapping
    from tests.onboarding.test_views import form_fields, preview_path, upload

    run_cli("people", PEOPLE)
    auth.login("admin")
    header = ("工号", "项目名称", "类型", "日期", "日期", "学时")
    data = xlsx(header, ("00123", "研修", "培训", "2024-03-01", "2024-03-02", 8))
    response = upload(client, "records", data)
    path = preview_path(response)
    fields = form_fields(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    fields.update(col_3="starts_on", col_4="ends_on", save_as="两列日期")
    html = client.post(path + "/check", data=fields).get_data(as_text=True)
    assert re.findall(r'data-action="(\w+)"', html) == ["create"]
    fields.pop("save_as")
    client.post(path + "/apply", data=fields)
    with app.app_context():
        act = db.session.scalar(select(Activity))
        assert (act.starts_on, act.ends_on) == (date(2024, 3, 1), date(2024, 3, 2))
        mapping = db.session.scalar(select(ImportMapping)).columns
    # The saved mapping reads the next file of this source the same way.
    code, report = run_cli("records", data, "--mapping", "两列日期", "--dry-run")
    assert (code, codes(report), summary(report)["unchanged"]) == (0, [], 1), mapping


def test_a_csv_keeping_leading_zeros_the_excel_way_is_read(app, run_cli):
    # Platforms write ="00123" in CSV so that Excel shows the text, zeros and all.
    from tests.onboarding.conftest import csv_bytes

    run_cli("people", PEOPLE)
    text = ('工号,身份证号,项目名称,类型,开始日期,学时\n'
            '="00123",="110105198001010024",研修,培训,2024-03-01,8\n')  # fmt: skip
    code, report = run_cli("records", csv_bytes(text, "gb18030"), name="平台.csv")
    assert (code, codes(report), summary(report)["created"]) == (0, [], 1)


def test_two_imports_of_one_file_at_once_write_it_once(app, run_cli, table_counts):
    """Two admins (or the page and the command line) apply the same file at the
    same moment: the second waits for the first, then finds its rows."""
    import threading

    from pdtracker.onboarding.services import run_import
    from pdtracker.timeutil import utcnow

    run_cli("people", PEOPLE)
    before = table_counts()["activities"]
    header = ("工号", "项目名称", "类型", "开始日期", "学时")
    data = xlsx(header, ("00123", "研修", "培训", "2024-03-01", 8))
    first_applied, second_started = threading.Event(), threading.Event()
    reports: dict[str, object] = {}

    def first() -> None:
        with app.app_context():
            plan, _ = run_import("records", data, filename="a.xlsx", actor=None,
                                 now=utcnow())  # fmt: skip
            first_applied.set()
            second_started.wait(5)
            threading.Event().wait(0.5)  # the second is planning meanwhile
            db.session.commit()
            reports["first"] = plan.summary()["created"]

    def second() -> None:
        first_applied.wait(5)
        with app.app_context():
            second_started.set()
            try:
                plan, _ = run_import("records", data, filename="b.xlsx", actor=None,
                                     now=utcnow())  # fmt: skip
                db.session.commit()
                reports["second"] = plan.summary()
            except Exception as exc:  # noqa: BLE001 - reported below
                db.session.rollback()
                reports["second"] = repr(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert reports["first"] == 1
    assert reports["second"] == {"rows": 1, "created": 0, "updated": 0,
                                 "unchanged": 1, "duplicates": 0}  # fmt: skip
    assert table_counts()["activities"] == before + 1


def test_leading_zeros_never_reach_another_colleges_teacher(
    app, make_department, make_user, run_cli
):
    from pdtracker.auth.models import Role, User
    from pdtracker.onboarding.services import run_import
    from pdtracker.timeutil import utcnow

    north = make_department("NAI", "北城人工智能系", institution="NORTH")
    run_cli("people", PEOPLE)  # 00123 … in the first college, none in NORTH
    other = make_user(
        "cadmin2", Role.COLLEGE_ADMIN, institution_id=north.institution_id
    )
    header = ("工号", "项目名称", "类型", "开始日期", "学时")
    with app.app_context():
        admin = db.session.get(User, other.id)
        plan, _ = run_import("records", xlsx(header, (123, "研", "培训", "2024-03-01", 8)),
                             filename="f.xlsx", actor=admin, now=utcnow(),
                             dry_run=True)  # fmt: skip
        assert [e.code for e in plan.errors] == ["unknown_teacher"]
