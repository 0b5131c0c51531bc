"""``flask progress …`` commands: what-if checks against the status engine."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .definitions import ROLES, STATUSES, ActivityFact, Ruleset
from .documents import RulesetError
from .engine import evaluate, report_to_dict
from .rulebook import builtin_text, load_builtin, parse_ruleset

progress_cli = AppGroup("progress", help="Dual-qualified status tools.")

# Kind codes of the activity log; a custom ruleset may name more.
STANDARD_KINDS = frozenset(
    {
        "expert_lecture",
        "industry_conference",
        "enterprise_placement",
        "seminar",
        "training",
        "certificate",
        "standard_drafting",
        "enterprise_project",
    }
)
ACTIVITY_FIELDS = frozenset(
    {"id", "title", "kind", "start", "end", "hours", "days", "role", "grade", "status"}
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InputError(click.ClickException):
    """Bad input file or ruleset; exits with status 2 like a usage error."""

    exit_code = 2


def _date(value: Any, where: str) -> date:
    if isinstance(value, str) and DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(
        _(
            "%(where)s: must be a date YYYY-MM-DD, got %(value)s",
            where=where,
            value=json.dumps(value),
        )
    )


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(_("%(where)s: must be a number or null", where=where))
    if not math.isfinite(value) or value < 0:
        raise InputError(_("%(where)s: must not be negative", where=where))
    return value


def _choice(
    value: Any, where: str, allowed: frozenset[str], *, required: bool = False
) -> str | None:
    if (value is None and not required) or value in allowed:
        return value
    raise InputError(
        _(
            "%(where)s: must be one of %(allowed)s, got %(value)s",
            where=where,
            allowed=", ".join(sorted(allowed)),
            value=json.dumps(value, ensure_ascii=False),
        )
    )


def _activity(entry: Any, index: int, kinds: frozenset[str]) -> ActivityFact:
    where = f"activities[{index}]"
    if not isinstance(entry, dict):
        raise InputError(_("%(where)s: must be an object", where=where))
    for key in entry:
        if key not in ACTIVITY_FIELDS:
            raise InputError(_("%(where)s: unknown field", where=f"{where}.{key}"))
    for key in ("kind", "start"):
        if key not in entry:
            raise InputError(
                _("%(where)s: required field is missing", where=f"{where}.{key}")
            )
    kind = _choice(entry["kind"], f"{where}.kind", kinds, required=True)
    start = _date(entry["start"], f"{where}.start")
    end = None if entry.get("end") is None else _date(entry["end"], f"{where}.end")
    if end is not None and end < start:
        raise InputError(_("%(where)s: must not be before start", where=f"{where}.end"))
    grade = entry.get("grade")
    if grade is not None and not isinstance(grade, str):
        raise InputError(
            _("%(where)s: must be a string or null", where=f"{where}.grade")
        )
    ident = entry.get("id", index)
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        raise InputError(
            _("%(where)s: must be a number or a string", where=f"{where}.id")
        )
    return ActivityFact(
        id=ident,
        kind=kind or "",
        start=start,
        end=end,
        hours=_number(entry.get("hours"), f"{where}.hours"),
        days=_number(entry.get("days"), f"{where}.days"),
        role=_choice(entry.get("role"), f"{where}.role", ROLES),
        grade=grade,
        status=_choice(entry.get("status", "verified"), f"{where}.status", STATUSES)
        or "verified",
    )


@dataclass(frozen=True)
class WhatIf:
    """The what-if document: who the teacher is and what they did."""

    professional_course: bool
    industry_years: float
    activities: list[ActivityFact]


def parse_input(data: Any, kinds: frozenset[str]) -> WhatIf:
    """Validate the what-if document."""
    if not isinstance(data, dict):
        raise InputError(_("the file must hold a JSON object"))
    for key in data:
        if key not in ("teacher", "activities"):
            raise InputError(_("%(where)s: unknown field", where=key))
    teacher = data.get("teacher", {})
    if not isinstance(teacher, dict):
        raise InputError(_("%(where)s: must be an object", where="teacher"))
    for key in teacher:
        if key not in ("professional_course", "name", "industry_years"):
            raise InputError(_("%(where)s: unknown field", where=f"teacher.{key}"))
    professional = teacher.get("professional_course", True)
    if not isinstance(professional, bool):
        raise InputError(
            _("%(where)s: must be true or false", where="teacher.professional_course")
        )
    years = _number(teacher.get("industry_years"), "teacher.industry_years") or 0
    entries = data.get("activities", [])
    if not isinstance(entries, list):
        raise InputError(_("%(where)s: must be a list", where="activities"))
    activities = [_activity(e, n, kinds) for n, e in enumerate(entries)]
    return WhatIf(professional, years, activities)


def _load_ruleset(path: Path | None) -> Ruleset:
    if path is None:
        return load_builtin()
    fmt = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}.get(path.suffix.lower())
    try:
        return parse_ruleset(
            path.read_text(encoding="utf-8"), fmt, resolve=builtin_text
        )
    except (RulesetError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}:\n{exc}") from exc


@progress_cli.command("evaluate", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Evaluation date, YYYY-MM-DD.",
)
@click.option(
    "--ruleset",
    "ruleset_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ruleset document (TOML or YAML); default: cn-vocational-default.",
)
def evaluate_command(file: Path, as_of: datetime, ruleset_path: Path | None) -> None:
    """Evaluate the activities in FILE (JSON) and print the progress report as JSON."""
    ruleset = _load_ruleset(ruleset_path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            _("%(file)s: not valid JSON: %(error)s", file=file, error=exc)
        ) from exc
    kinds = STANDARD_KINDS.union(
        *(r.kinds for lv in ruleset.levels for r in lv.requirements)
    )
    what_if = parse_input(data, kinds)
    report = evaluate(
        ruleset,
        what_if.activities,
        as_of.date(),
        professional_course=what_if.professional_course,
        industry_years=what_if.industry_years,
    )
    click.echo(json.dumps(report_to_dict(report), ensure_ascii=False, indent=2))
