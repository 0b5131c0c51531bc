"""``flask progress evaluate``: what-if checks from a JSON file."""

import json

import pytest
from click.testing import CliRunner
from flask import Flask

from pdtracker.progress.cli import progress_cli

PRIMARY = {
    "teacher": {"professional_course": True},
    "activities": [
        {"kind": "enterprise_placement", "start": "2022-01-01", "end": "2022-06-29"},
        {
            "kind": "training",
            "start": "2023-03-01",
            "end": "2023-03-05",
            "hours": 360,
            "role": "attendee",
            "grade": None,
            "status": "verified",
        },
        {"kind": "certificate", "start": "2021-05-01", "end": None, "grade": "senior"},
        {
            "kind": "expert_lecture",
            "start": "2024-09-01",
            "end": "2024-09-01",
            "hours": 3,
            "status": "planned",
        },
        {
            "kind": "seminar",
            "start": "2023-01-01",
            "end": "2023-01-01",
            "status": "rejected",
        },
    ],
}


@pytest.fixture
def run(tmp_path):
    """Write data to a file and run ``progress evaluate`` on it."""

    def run(data, *args, raw=None):
        path = tmp_path / "teacher.json"
        path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
        return CliRunner().invoke(progress_cli, ["evaluate", str(path), *args])

    return run


def test_prints_the_report_with_the_named_keys(run):
    result = run(PRIMARY, "--as-of", "2024-06-15")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"as_of", "ruleset", "window", "level", "levels"} <= set(out)
    assert out["as_of"] == "2024-06-15"
    assert out["ruleset"] == "cn-vocational-default"
    assert out["ruleset_version"] == "1"
    assert out["assessed"] is True
    assert out["window"] == {"start": "2019-06-16", "end": "2024-06-15"}
    assert out["level"] == "primary"
    assert [lv["code"] for lv in out["levels"]] == ["primary", "intermediate", "senior"]
    for level in out["levels"]:
        assert {"code", "met", "requirements"} <= set(level)
        for req in level["requirements"]:
            assert {
                "code",
                "unit",
                "required",
                "credited",
                "met",
                "lapses_on",
                "forecast_met_on",
            } <= set(req)
    practice = out["levels"][0]["requirements"][0]
    assert practice == {
        "code": "enterprise_practice",
        "unit": "days",
        "required": 180,
        "credited": 180,
        "met": True,
        "lapses_on": "2027-01-01",
        "forecast_met_on": "2024-06-15",
        "public_standard": True,
        "counted": [0],
    }
    hours = out["levels"][0]["requirements"][1]
    assert (hours["credited"], hours["lapses_on"]) == (360, "2028-03-05")
    certificate = out["levels"][1]["requirements"][0]
    assert (certificate["met"], certificate["lapses_on"]) == (True, None)
    events = out["levels"][1]["requirements"][1]
    assert (events["credited"], events["forecast_met_on"]) == (0, None)


def test_integral_numbers_print_as_ints(run):
    result = run(PRIMARY, "--as-of", "2024-06-15")
    assert '"required": 180,' in result.stdout
    assert '"credited": 360,' in result.stdout
    assert "180.0" not in result.stdout


def test_non_professional_teacher_is_not_assessed(run):
    data = {**PRIMARY, "teacher": {"professional_course": False}}
    out = json.loads(run(data, "--as-of", "2024-06-15").stdout)
    assert out["level"] is None
    assert out["assessed"] is False


def test_absent_fields_mean_none(run):
    data = {
        "activities": [
            {"kind": "certificate", "start": "2020-01-01", "grade": "senior"}
        ]
    }
    out = json.loads(run(data, "--as-of", "2024-06-15").stdout)
    senior = out["levels"][2]["requirements"][0]
    assert (senior["code"], senior["met"], senior["lapses_on"]) == (
        "senior_certificate",
        True,
        None,
    )


@pytest.mark.parametrize(
    ("activity", "message"),
    [
        (
            {"kind": "training", "start": "2024-13-01"},
            "activities[1].start: must be a date",
        ),
        (
            {"kind": "training", "start": "2024/01/01"},
            "activities[1].start: must be a date",
        ),
        ({"kind": "training", "start": None}, "activities[1].start: must be a date"),
        ({"start": "2024-01-01"}, "activities[1].kind: required field is missing"),
        ({"kind": "training"}, "activities[1].start: required field is missing"),
        (
            {"kind": "trainig", "start": "2024-01-01"},
            "activities[1].kind: must be one of",
        ),
        (
            {"kind": "training", "start": "2024-01-02", "end": "2024-01-01"},
            "activities[1].end: must not be before start",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "hours": "8"},
            "activities[1].hours: must be a number or null",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "hours": -1},
            "activities[1].hours: must not be negative",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "role": "guest"},
            "activities[1].role: must be one of attendee, organizer, speaker",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "status": "done"},
            "activities[1].status: must be one of",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "grade": 3},
            "activities[1].grade: must be a string or null",
        ),
        (
            {"kind": "training", "start": "2024-01-01", "hour": 3},
            "activities[1].hour: unknown field",
        ),
        ("training", "activities[1]: must be an object"),
    ],
)
def test_malformed_entries_name_entry_and_field(run, activity, message):
    data = {"activities": [PRIMARY["activities"][0], activity]}
    result = run(data, "--as-of", "2024-06-15")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the file must hold a JSON object"),
        ({"activities": {}}, "activities: must be a list"),
        ({"teacher": {"professional_course": "yes"}}, "teacher.professional_course"),
        ({"teacher": {"dept": 1}}, "teacher.dept: unknown field"),
        ({"teachers": {}}, "teachers: unknown field"),
    ],
)
def test_malformed_documents(run, data, message):
    result = run(data, "--as-of", "2024-06-15")
    assert result.exit_code == 2
    assert message in result.stderr


def test_invalid_json(run):
    result = run(None, "--as-of", "2024-06-15", raw='{"activities": [}')
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


@pytest.mark.parametrize(
    "args", [[], ["--as-of", "15/06/2024"], ["--as-of", "2024-02-30"]]
)
def test_as_of_is_required_and_checked(run, args):
    assert run(PRIMARY, *args).exit_code == 2


def test_custom_ruleset_file(run, tmp_path):
    ruleset = tmp_path / "college.yaml"
    ruleset.write_text(
        "name: college-z\nversion: 7\nextends: cn-vocational-default\n"
        "levels:\n  - code: primary\n    requirements:\n"
        "      - code: enterprise_practice\n        threshold: 200\n",
        encoding="utf-8",
    )
    out = json.loads(
        run(PRIMARY, "--as-of", "2024-06-15", "--ruleset", str(ruleset)).stdout
    )
    assert (out["ruleset"], out["ruleset_version"], out["level"]) == (
        "college-z",
        "7",
        None,
    )
    practice = out["levels"][0]["requirements"][0]
    assert (practice["required"], practice["met"], practice["public_standard"]) == (
        200,
        False,
        False,
    )


def test_bad_ruleset_file_names_line_and_field(run, tmp_path):
    ruleset = tmp_path / "bad.toml"
    ruleset.write_text(
        'name = "bad"\n\n[[levels]]\ncode = "primary"\n\n[[levels.requirements]]\n'
        'code = "x"\nmeasure = "count"\nkinds = ["training"]\nthreshold = 0\n'
        'source = "s"\n',
        encoding="utf-8",
    )
    result = run(PRIMARY, "--as-of", "2024-06-15", "--ruleset", str(ruleset))
    assert result.exit_code == 2
    assert (
        "line 10: levels[0].requirements[0].threshold: must be a positive number"
        in result.stderr
    )


def test_registered_on_a_flask_app(tmp_path):
    app = Flask(__name__)
    app.cli.add_command(progress_cli)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(PRIMARY), encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["progress", "evaluate", str(path), "--as-of", "2024-06-15"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["level"] == "primary"


COLLEGE_TEACHER = {
    "teacher": {"professional_course": True, "industry_years": 2},
    "activities": [
        {"id": "p1", "kind": "enterprise_placement", "start": "2024-03-04",
         "end": "2024-03-13"},
        *(
            {"id": f"l{n}", "kind": "expert_lecture", "start": f"2024-04-0{n}",
             "hours": 1, "role": "organizer" if n == 3 else "attendee"}
            for n in range(1, 6)
        ),
        {"id": "s1", "kind": "seminar", "start": "2025-02-01", "hours": 1.5},
        {"id": "s2", "kind": "seminar", "start": "2025-02-02", "hours": 1.5},
        {"id": "t1", "kind": "training", "start": "2025-03-01", "hours": 40},
        {"id": "t2", "kind": "training", "start": "2025-09-01", "hours": 300,
         "status": "planned"},
    ],
}  # fmt: skip


def test_what_if_under_the_college_layer_checked_key_by_key(run):
    """Alternatives, profile years, the credit table, yearly caps, a one-year window."""
    from pdtracker.progress.rulebook import STANDARDS_DIR

    path = STANDARDS_DIR / "cn-college-example.toml"
    result = run(COLLEGE_TEACHER, "--as-of", "2025-06-30", "--ruleset", str(path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["ruleset"], out["level"]) == ("cn-college-example", None)
    primary = out["levels"][0]
    assert primary == {
        "code": "primary", "met": False, "reached": False,
        "requirements": [
            {
                "code": "enterprise_practice", "unit": "alternatives",
                "required": 1, "credited": 0, "met": False, "lapses_on": None,
                "forecast_met_on": None, "public_standard": False, "counted": [],
                "alternatives": [
                    {"code": "practice_days", "unit": "days", "required": 180,
                     "credited": 10, "met": False, "lapses_on": None,
                     "forecast_met_on": None, "public_standard": True,
                     "counted": ["p1"]},
                    {"code": "industry_work", "unit": "years", "required": 3,
                     "credited": 2, "met": False, "lapses_on": None,
                     "forecast_met_on": None, "public_standard": False,
                     "counted": []},
                ],
            },
            {
                # Placement 10 days × 3 = 30, at most 24; 2024's lectures 4+4+8+4+4
                # capped at 16 (the convener's 8 doubled); seminars 2 each; training
                # as logged. The planned 300 hours reach 360 on their day.
                "code": "training_hours", "unit": "hours", "required": 360,
                "credited": 84, "met": False, "lapses_on": None,
                "forecast_met_on": "2025-09-01", "public_standard": False,
                "counted": [
                    {"id": "p1", "credited": 24}, {"id": "l1", "credited": 4},
                    {"id": "l2", "credited": 4}, {"id": "l3", "credited": 8},
                    {"id": "l4", "credited": 0}, {"id": "l5", "credited": 0},
                    {"id": "s1", "credited": 2}, {"id": "s2", "credited": 2},
                    {"id": "t1", "credited": 40},
                ],
            },
        ],
    }  # fmt: skip
    yearly = out["levels"][1]["requirements"][-1]
    assert yearly == {
        "code": "yearly_practice", "unit": "days", "required": 30, "credited": 0,
        "met": False, "lapses_on": None, "forecast_met_on": None,
        "public_standard": False, "counted": [],
        "window": {"start": "2024-07-01", "end": "2025-06-30"},
    }  # fmt: skip


def test_industry_years_must_be_a_number(run):
    data = {"teacher": {"industry_years": "three"}, "activities": []}
    result = run(data, "--as-of", "2025-06-30")
    assert result.exit_code == 2
    assert "teacher.industry_years: must be a number or null" in result.output
