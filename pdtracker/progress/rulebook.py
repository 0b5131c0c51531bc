"""The ruleset language: what a valid document says, checked into :class:`Ruleset`.

``extends = "name"`` builds on another ruleset, resolved by a callback (name →
document text) so this module does no I/O of its own; :func:`builtin_text` reads
the standards shipped in ``progress/standards``. Documents are read, with the line
of every field, by :mod:`.documents`. Layering: docs/status-rules.md S19.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path as FilePath
from typing import Any

from .clauses import CODE_RE, check_requirement
from .definitions import (
    AppliesTo,
    Level,
    LocalizedText,
    Ruleset,
)
from .documents import (
    MAX_DOCUMENT_CHARS,
    N_,
    Checker,
    Path,
    RulesetError,
    RulesetIssue,
    detect_format,
    format_path,
    read_document,
    toml_key_lines,
)

__all__ = [
    "MAX_DOCUMENT_CHARS", "N_", "RulesetError", "RulesetIssue", "detect_format",
    "toml_key_lines", "builtin_text", "load_builtin", "parse_ruleset",
]  # fmt: skip

Resolver = Callable[[str], str]

MAX_EXTENDS_DEPTH = 8
MAX_LEVELS = 20
MAX_REQUIREMENTS = 50
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
TOP_FIELDS = frozenset(
    {
        "name",
        "version",
        "extends",
        "title",
        "window_years",
        "horizon_years",
        "applies_to",
        "levels",
    }
)
LEVEL_FIELDS = frozenset({"code", "name", "requirements"})


def _check_level(
    chk: Checker,
    raw_value: Any,
    path: Path,
    known_kinds: frozenset[str] | None,
    base: Level | None,
    parent_codes: Mapping[str, str],
) -> Level | None:
    raw = chk.table(raw_value, path, LEVEL_FIELDS)
    if not isinstance(raw_value, dict) or not chk.required(raw, path, "code"):
        return None
    before = len(chk.issues)
    code = chk.identifier(raw.get("code"), (*path, "code"), CODE_RE)
    name = chk.text(raw["name"], (*path, "name")) if "name" in raw else None
    if base is None:
        chk.required(raw, path, "requirements")
    requirements = list(base.requirements) if base else []
    raw_reqs = raw.get("requirements", [])
    if (
        not isinstance(raw_reqs, list)
        or (base is None and not raw_reqs)
        or len(raw_reqs) > MAX_REQUIREMENTS
    ):
        chk.fail(
            (*path, "requirements"),
            N_("must be a non-empty list of at most %(max)s tables"),
            max=MAX_REQUIREMENTS,
        )
        raw_reqs = []
    index_of = {r.code: n for n, r in enumerate(requirements)}
    for n, item in enumerate(raw_reqs):
        req_path = (*path, "requirements", n)
        req_code = item.get("code") if isinstance(item, dict) else None
        owner = parent_codes.get(req_code) if isinstance(req_code, str) else None
        if owner is not None and owner != code:
            chk.fail(
                (*req_path, "code"),
                N_("belongs to level %(level)s of the extended ruleset"),
                level=owner,
            )
            continue
        at = index_of.get(req_code) if isinstance(req_code, str) else None
        req = check_requirement(
            chk, item, req_path, known_kinds, None if at is None else requirements[at]
        )
        if req is None:
            continue
        if at is None:
            index_of[req.code] = len(requirements)
            requirements.append(req)
        else:
            requirements[at] = req
    if len(chk.issues) > before or code is None:
        return None
    if base is None:
        return Level(
            code=code, requirements=tuple(requirements), name=name or LocalizedText()
        )
    return replace(base, requirements=tuple(requirements), name=name or base.name)


def _codes(items: Any) -> list[tuple[int, str]]:
    """(index, code) of the tables in a raw list that have a string code."""
    if not isinstance(items, list):
        return []
    return [
        (n, item["code"])
        for n, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("code"), str)
    ]


def _requirement_codes(raw_reqs: Any, level_path: Path) -> list[tuple[str, Path]]:
    """(code, path of the code) of requirements and their alternatives."""
    found: list[tuple[str, Path]] = []
    for m, code in _codes(raw_reqs):
        path: Path = (*level_path, "requirements", m)
        found.append((code, (*path, "code")))
        found.extend(
            (member, (*path, "any_of", k, "code"))
            for k, member in _codes(raw_reqs[m].get("any_of"))
        )
    return found


def _check_duplicates(chk: Checker, raw_levels: list[Any]) -> None:
    """Level codes are unique, and requirement codes across the whole document."""
    seen: dict[str, Path] = {}
    levels_seen: set[str] = set()
    for n, level_code in _codes(raw_levels):
        if level_code in levels_seen:
            chk.fail(("levels", n, "code"), N_("duplicate level code"))
        levels_seen.add(level_code)
    for n, item in enumerate(raw_levels):
        raw_reqs = item.get("requirements") if isinstance(item, dict) else None
        for code, path in _requirement_codes(raw_reqs, ("levels", n)):
            if code in seen:
                chk.fail(
                    path,
                    N_("duplicate requirement code, also at %(other)s"),
                    other=format_path(seen[code]),
                )
            seen[code] = path


def _check_document(
    raw_value: Any,
    found: Mapping[Path, int],
    parent: Ruleset | None,
    known_kinds: frozenset[str] | None,
) -> Ruleset:
    chk = Checker(found)
    raw = chk.table(raw_value, (), TOP_FIELDS)
    name = (
        chk.identifier(raw.get("name"), ("name",), NAME_RE)
        if chk.required(raw, (), "name")
        else None
    )
    version = raw.get("version")
    if version is not None and not (
        isinstance(version, str | int)
        and not isinstance(version, bool)
        and str(version).strip()
    ):
        chk.fail(("version",), N_("must be a non-empty string or a whole number"))
    defaults = parent or Ruleset(name="", levels=())
    window = chk.whole(
        raw.get("window_years", defaults.window_years), ("window_years",), 1, 50
    )
    horizon = chk.whole(
        raw.get("horizon_years", defaults.horizon_years), ("horizon_years",), 1, 50
    )
    applies_to = defaults.applies_to
    if "applies_to" in raw:
        try:
            applies_to = AppliesTo(raw["applies_to"])
        except ValueError:
            chk.fail(
                ("applies_to",),
                N_("must be one of %(choices)s"),
                choices=", ".join(a.value for a in AppliesTo),
            )
    title = chk.text(raw["title"], ("title",)) if "title" in raw else defaults.title
    if parent is None:
        chk.required(raw, (), "levels")
    raw_levels = raw.get("levels", [])
    if (
        not isinstance(raw_levels, list)
        or (parent is None and not raw_levels)
        or len(raw_levels) > MAX_LEVELS
    ):
        chk.fail(
            ("levels",),
            N_("must be a non-empty list of at most %(max)s tables"),
            max=MAX_LEVELS,
        )
        raw_levels = []
    levels = list(defaults.levels)
    parent_codes = {
        code: lv.code
        for lv in levels
        for r in lv.requirements
        for code in (r.code, *(m.code for m in getattr(r, "members", ())))
    }
    index_of = {lv.code: n for n, lv in enumerate(levels)}
    _check_duplicates(chk, raw_levels)
    seen_levels: set[str] = set()
    for n, item in enumerate(raw_levels):
        level_code = item.get("code") if isinstance(item, dict) else None
        if isinstance(level_code, str):
            if level_code in seen_levels:
                continue
            seen_levels.add(level_code)
        at = index_of.get(level_code) if isinstance(level_code, str) else None
        level = _check_level(
            chk,
            item,
            ("levels", n),
            known_kinds,
            None if at is None else levels[at],
            parent_codes,
        )
        if level is None:
            continue
        if at is None:
            index_of[level.code] = len(levels)
            levels.append(level)
        else:
            levels[at] = level
    if chk.issues:
        raise RulesetError(chk.issues)
    assert name is not None
    assert window is not None
    assert horizon is not None
    return Ruleset(
        name=name,
        levels=tuple(levels),
        version=None if version is None else str(version),
        window_years=window,
        horizon_years=horizon,
        applies_to=applies_to,
        title=title or LocalizedText(),
        extends=None if parent is None else parent.name,
    )


def parse_ruleset(
    text: str,
    fmt: str | None = None,
    *,
    resolve: Resolver | None = None,
    known_kinds: frozenset[str] | None = None,
    _chain: tuple[str, ...] = (),
) -> Ruleset:
    """Parse and validate a ruleset document; raise :class:`RulesetError` if bad.

    ``fmt`` is "toml" or "yaml" (sniffed when None). ``resolve`` turns the name in
    ``extends`` into that ruleset's document text. ``known_kinds``, when given,
    restricts the activity kinds that requirements may name.
    """
    data, found = read_document(text, fmt)
    parent = None
    extends = data.get("extends") if isinstance(data, dict) else None
    if extends is not None:
        chk = Checker(found)
        if not isinstance(extends, str) or not NAME_RE.match(extends):
            chk.fail(
                ("extends",),
                N_("must be a string matching %(pattern)s"),
                pattern=NAME_RE.pattern,
            )
        elif extends in _chain or extends == data.get("name"):
            chk.fail(
                ("extends",),
                N_("circular extends: %(chain)s"),
                chain=" → ".join((*_chain, extends)),
            )
        elif len(_chain) >= MAX_EXTENDS_DEPTH:
            chk.fail(("extends",), N_("extends chain is too deep"))
        elif resolve is None:
            chk.fail(("extends",), N_("cannot resolve extended rulesets here"))
        if chk.issues:
            raise RulesetError(chk.issues)
        try:
            parent_text = resolve(extends)  # type: ignore[misc]
        except LookupError as exc:
            raise RulesetError(
                [
                    RulesetIssue(
                        chk.line(("extends",)),
                        "extends",
                        N_("unknown ruleset %(name)r"),
                        {"name": extends},
                    )
                ]
            ) from exc
        own = data.get("name")
        chain = (*_chain, own if isinstance(own, str) else "?")
        try:
            parent = parse_ruleset(
                parent_text,
                None,
                resolve=resolve,
                known_kinds=known_kinds,
                _chain=chain,
            )
        except RulesetError as exc:
            raise RulesetError(exc.issues, (extends, *exc.parents)) from exc
    return _check_document(data, found, parent, known_kinds)


# --- rulesets shipped with the package ----------------------------------------------


DEFAULT_RULESET = "cn-vocational-default"
STANDARDS_DIR = FilePath(__file__).resolve().parent / "standards"


def builtin_text(name: str) -> str:
    """Text of a ruleset shipped in ``progress/standards``; LookupError if none."""
    if not NAME_RE.match(name):
        raise LookupError(name)
    # A path next to the package, not importlib.resources: the latter fails when
    # an editable install makes "pdtracker" a namespace package.
    path = STANDARDS_DIR / f"{name}.toml"
    if not path.is_file():
        raise LookupError(name)
    return path.read_text(encoding="utf-8")


def load_builtin(name: str = DEFAULT_RULESET) -> Ruleset:
    """Parse a shipped ruleset."""
    return parse_ruleset(builtin_text(name), "toml", resolve=builtin_text)
