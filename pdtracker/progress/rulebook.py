"""Parse and validate ruleset documents (TOML or YAML) into :class:`Ruleset` values.

Errors name the line and the field, e.g.
``line 12: levels[1].requirements[0].threshold: must be a positive number``.
YAML lines come from PyYAML's node marks. tomllib reports no positions, so a small
scanner (:func:`toml_key_lines`) walks the already-validated TOML text and records
the line of every table header and key; a field inside an inline table or array is
reported at the line of its nearest enclosing key.

``extends = "name"`` builds on another ruleset, resolved by a callback (name →
document text) so this module does no I/O of its own; :func:`builtin_text` reads
the rulesets shipped in the package.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path as FilePath
from typing import Any

import yaml

from .rules import ROLES, AppliesTo, Level, LocalizedText, Measure, Requirement, Ruleset

Path = tuple[str | int, ...]
Resolver = Callable[[str], str]

MAX_DOCUMENT_CHARS = 200_000
MAX_EXTENDS_DEPTH = 8
MAX_LEVELS = 20
MAX_REQUIREMENTS = 50
MAX_FILTER_VALUES = 100
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
WHOLE_MEASURES = frozenset(
    {Measure.DISTINCT_DAYS, Measure.COUNT, Measure.VALID_ON_DATE}
)

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
REQUIREMENT_FIELDS = frozenset(
    {
        "code",
        "name",
        "measure",
        "kinds",
        "roles",
        "grades",
        "threshold",
        "public_standard",
        "source",
    }
)
# Changing any of these makes the number the college's own, not the public one.
DEFINING_FIELDS = ("measure", "kinds", "roles", "grades", "threshold")


def N_(message: str) -> str:
    """Mark a message for translation; the app translates it, this module cannot."""
    return message


@dataclass(frozen=True)
class RulesetIssue:
    """One problem in a ruleset document.

    ``template`` is an English message marked with :func:`N_` whose ``%(name)s``
    placeholders ``params`` fill, so the app can show it in the user's language.
    """

    line: int | None
    path: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        """The message in English."""
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return (
            f"{'' if self.line is None else f'line {self.line}: '}{where}{self.message}"
        )


class RulesetError(ValueError):
    """A ruleset document is malformed; ``issues`` lists every problem found.

    ``parents`` names the extended rulesets the issues were found in, outermost
    first (empty for the document itself).
    """

    def __init__(
        self, issues: list[RulesetIssue], parents: tuple[str, ...] = ()
    ) -> None:
        self.issues = issues
        self.parents = parents
        context = "".join(f"in extended ruleset {p!r}: " for p in parents)
        self.context = context
        lines = [f"{context}{issue}" for issue in issues]
        super().__init__("\n".join(lines))


def format_path(path: Path) -> str:
    """("levels", 1, "threshold") → "levels[1].threshold"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# --- reading documents with line numbers ---------------------------------------


def _skip_string(text: str, i: int, lines: list[int]) -> int:
    """Skip the TOML string starting at ``text[i]``; return the index after it."""
    quote = text[i]
    multi = text.startswith(quote * 3, i)
    delim = quote * 3 if multi else quote
    i += len(delim)
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            lines[0] += 1
        if ch == "\\" and quote == '"':
            # A line-ending backslash escapes the newline: count it all the same.
            if text[i + 1 : i + 2] == "\n":
                lines[0] += 1
            i += 2
            continue
        if text.startswith(delim, i):
            i += len(delim)
            if multi:  # up to two quotes may close a multi-line string's content
                for _ in range(2):
                    if i < len(text) and text[i] == quote:
                        i += 1
            return i
        i += 1
    return i


def _read_keys(text: str, i: int, stop: str, lines: list[int]) -> tuple[list[str], int]:
    """Read a dotted key up to a char in ``stop``; return its parts and the index."""
    keys: list[str] = []
    current = ""
    while i < len(text) and text[i] not in stop:
        ch = text[i]
        if ch in "\"'":
            j = _skip_string(text, i, lines)
            raw = text[i:j]
            current += tomllib.loads(f"k = {raw}")["k"]
            i = j
            continue
        if ch == ".":
            keys.append(current)
            current = ""
        elif not ch.isspace():
            current += ch
        i += 1
    keys.append(current)
    return keys, i


def _skip_value(text: str, i: int, lines: list[int]) -> int:
    """Skip a TOML value (which may span lines inside brackets); stop at its newline."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _skip_string(text, i, lines)
            continue
        if ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "\n":
            if depth <= 0:
                return i
            lines[0] += 1
        i += 1
    return i


def toml_key_lines(text: str) -> dict[Path, int]:
    """Map each table and key path of a valid TOML document to its 1-based line."""
    found: dict[Path, int] = {}
    lines = [1]  # a one-item list so helpers can advance the line counter
    table: Path = ()
    latest: dict[tuple[str, ...], Path] = {}  # array-of-tables key → its last element
    counts: dict[Path, int] = {}

    def concrete(keys: list[str]) -> Path:
        path: Path = ()
        for n in range(1, len(keys) + 1):
            path = latest.get(tuple(keys[:n]), (*path, keys[n - 1]))
        return path

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            lines[0] += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif ch == "[":
            double = text.startswith("[[", i)
            keys, i = _read_keys(text, i + (2 if double else 1), "]", lines)
            i += 2 if double else 1
            if double:
                base = (*concrete(keys[:-1]), keys[-1])
                counts[base] = counts.get(base, 0) + 1
                table = (*base, counts[base] - 1)
                found.setdefault(base, lines[0])
                for key in [k for k in latest if k[: len(keys)] == tuple(keys)]:
                    del latest[key]
                latest[tuple(keys)] = table
            else:
                table = concrete(keys)
            found[table] = lines[0]
        else:
            keys, i = _read_keys(text, i, "=", lines)
            for n in range(1, len(keys) + 1):
                found.setdefault((*table, *keys[:n]), lines[0])
            i = _skip_value(text, i + 1, lines)
    return found


def _yaml_load(text: str) -> tuple[Any, dict[Path, int], list[RulesetIssue]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    found: dict[Path, int] = {}
    issues: list[RulesetIssue] = []
    seen: set[int] = set()

    def walk(n: yaml.Node, path: Path) -> None:
        found.setdefault(path, n.start_mark.line + 1)
        if id(n) in seen:  # an alias: its lines are already recorded once
            return
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in n.value:
                key = key_node.value
                if key in keys:
                    issues.append(
                        RulesetIssue(
                            key_node.start_mark.line + 1,
                            format_path((*path, key)),
                            N_("duplicate key"),
                        )
                    )
                keys.add(key)
                found.setdefault((*path, key), key_node.start_mark.line + 1)
                walk(value_node, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for index, item in enumerate(n.value):
                walk(item, (*path, index))

    if node is not None:
        walk(node, ())
    return data, found, issues


def detect_format(text: str) -> str:
    """Return "toml" if the text parses as TOML, else "yaml"."""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "yaml"
    return "toml"


def read_document(text: str, fmt: str | None = None) -> tuple[Any, dict[Path, int]]:
    """Parse TOML or YAML text into data plus a path → line map."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise RulesetError([RulesetIssue(None, "", N_("document is too large"))])
    fmt = (fmt or detect_format(text)).lower()
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RulesetError(
                [RulesetIssue(None, "", N_("invalid TOML: %(error)s"), {"error": exc})]
            ) from exc
        return data, toml_key_lines(text)
    if fmt in ("yaml", "yml"):
        try:
            data, found, issues = _yaml_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = None if mark is None else mark.line + 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise RulesetError(
                [
                    RulesetIssue(
                        line, "", N_("invalid YAML: %(error)s"), {"error": problem}
                    )
                ]
            ) from exc
        if issues:
            raise RulesetError(issues)
        return data, found
    raise ValueError(f"unknown ruleset format {fmt!r}")


# --- validation -----------------------------------------------------------------


class _Checker:
    """Collects issues while walking a raw document."""

    def __init__(self, found: Mapping[Path, int]) -> None:
        self.found = found
        self.issues: list[RulesetIssue] = []

    def line(self, path: Path) -> int | None:
        for n in range(len(path), -1, -1):
            if path[:n] in self.found:
                return self.found[path[:n]]
        return None

    def fail(
        self, path: Path, template: str, line_path: Path | None = None, **params: Any
    ) -> None:
        line = self.line(path if line_path is None else line_path)
        self.issues.append(RulesetIssue(line, format_path(path), template, params))

    def table(self, value: Any, path: Path, allowed: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(
                path,
                N_("must be a table") if path else N_("the document must be a table"),
            )
            return {}
        for key in value:
            if key not in allowed:
                self.fail((*path, str(key)), N_("unknown field"))
        return value

    def required(self, raw: dict[str, Any], path: Path, key: str) -> bool:
        if key in raw:
            return True
        self.fail((*path, key), N_("required field is missing"), line_path=path)
        return False

    def identifier(
        self, value: Any, path: Path, pattern: re.Pattern[str]
    ) -> str | None:
        if isinstance(value, str) and pattern.match(value):
            return value
        self.fail(
            path, N_("must be a string matching %(pattern)s"), pattern=pattern.pattern
        )
        return None

    def text(self, value: Any, path: Path) -> LocalizedText | None:
        if isinstance(value, str) and value.strip():
            return LocalizedText(zh=value, en=value)
        if isinstance(value, dict):
            raw = self.table(value, path, frozenset({"zh", "en"}))
            ok = all(isinstance(v, str) for v in raw.values())
            if ok and any(v.strip() for v in raw.values()):
                return LocalizedText(zh=raw.get("zh", ""), en=raw.get("en", ""))
        self.fail(
            path, N_("must be a non-empty string or a table with zh and/or en strings")
        )
        return None

    def string_set(
        self, value: Any, path: Path, allowed: frozenset[str] | None = None
    ) -> frozenset[str] | None:
        if not isinstance(value, list) or not value or len(value) > MAX_FILTER_VALUES:
            self.fail(
                path,
                N_("must be a non-empty list of at most %(max)s strings"),
                max=MAX_FILTER_VALUES,
            )
            return None
        good = True
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.fail((*path, index), N_("must be a non-empty string"))
                good = False
            elif allowed is not None and item not in allowed:
                self.fail(
                    (*path, index),
                    N_("must be one of %(choices)s"),
                    choices=", ".join(sorted(allowed)),
                )
                good = False
        return frozenset(value) if good else None

    def whole(self, value: Any, path: Path, low: int, high: int) -> int | None:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and low <= value <= high
        ):
            return value
        self.fail(
            path, N_("must be a whole number from %(low)s to %(high)s"),
            low=low, high=high,
        )  # fmt: skip
        return None

    def threshold(
        self, value: Any, path: Path, measure: Measure | None
    ) -> int | float | None:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:
            self.fail(path, N_("must be a positive number"))
            return None
        if measure in WHOLE_MEASURES and not float(value).is_integer():
            self.fail(
                path, N_("must be a whole number for measure %(measure)s"),
                measure=str(measure),
            )  # fmt: skip
            return None
        return int(value) if float(value).is_integer() else value


def _check_requirement(
    chk: _Checker,
    raw_value: Any,
    path: Path,
    known_kinds: frozenset[str] | None,
    base: Requirement | None,
) -> Requirement | None:
    raw = chk.table(raw_value, path, REQUIREMENT_FIELDS)
    if not isinstance(raw_value, dict):
        return None
    before = len(chk.issues)
    code = None
    if chk.required(raw, path, "code"):
        code = chk.identifier(raw["code"], (*path, "code"), CODE_RE)
    if base is None:
        for key in ("measure", "kinds", "threshold", "source"):
            chk.required(raw, path, key)
    fields: dict[str, Any] = {}
    measure = base.measure if base else None
    if "measure" in raw:
        try:
            measure = fields["measure"] = Measure(raw["measure"])
        except ValueError:
            chk.fail(
                (*path, "measure"),
                N_("must be one of %(choices)s"),
                choices=", ".join(m.value for m in Measure),
            )
    if "kinds" in raw:
        fields["kinds"] = chk.string_set(raw["kinds"], (*path, "kinds"), known_kinds)
    if "roles" in raw:
        fields["roles"] = chk.string_set(raw["roles"], (*path, "roles"), ROLES)
    if "grades" in raw:
        fields["grades"] = chk.string_set(raw["grades"], (*path, "grades"))
    if "threshold" in raw:
        fields["threshold"] = chk.threshold(
            raw["threshold"], (*path, "threshold"), measure
        )
    elif base is not None and "measure" in raw and measure in WHOLE_MEASURES:
        chk.threshold(base.threshold, (*path, "threshold"), measure)
    if "source" in raw:
        fields["source"] = chk.text(raw["source"], (*path, "source"))
    if "name" in raw:
        fields["name"] = chk.text(raw["name"], (*path, "name"))
    if "public_standard" in raw:
        if isinstance(raw["public_standard"], bool):
            fields["is_public_standard"] = raw["public_standard"]
        else:
            chk.fail((*path, "public_standard"), N_("must be true or false"))
    if len(chk.issues) > before or code is None:
        return None
    if base is None:
        return Requirement(code=code, **fields)
    if "is_public_standard" not in fields and any(
        key in raw and fields.get(key) != getattr(base, key) for key in DEFINING_FIELDS
    ):
        fields["is_public_standard"] = False
    return replace(base, **fields)


def _check_level(
    chk: _Checker,
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
        req = _check_requirement(
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


def _check_duplicates(chk: _Checker, raw_levels: list[Any]) -> None:
    """Level codes are unique, and requirement codes across the whole document."""
    seen: dict[str, Path] = {}
    levels_seen: set[str] = set()
    for n, level_code in _codes(raw_levels):
        if level_code in levels_seen:
            chk.fail(("levels", n, "code"), N_("duplicate level code"))
        levels_seen.add(level_code)
    for n, item in enumerate(raw_levels):
        raw_reqs = item.get("requirements") if isinstance(item, dict) else None
        for m, code in _codes(raw_reqs):
            path: Path = ("levels", n, "requirements", m, "code")
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
    chk = _Checker(found)
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
    parent_codes = {r.code: lv.code for lv in levels for r in lv.requirements}
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
        chk = _Checker(found)
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
RULESETS_DIR = FilePath(__file__).resolve().parent.parent / "rulesets"


def builtin_text(name: str) -> str:
    """Text of a ruleset shipped in ``pdtracker/rulesets``; LookupError if none."""
    if not NAME_RE.match(name):
        raise LookupError(name)
    # A path next to the package, not importlib.resources: the latter fails when
    # an editable install makes "pdtracker" a namespace package.
    path = RULESETS_DIR / f"{name}.toml"
    if not path.is_file():
        raise LookupError(name)
    return path.read_text(encoding="utf-8")


def load_builtin(name: str = DEFAULT_RULESET) -> Ruleset:
    """Parse a shipped ruleset."""
    return parse_ruleset(builtin_text(name), "toml", resolve=builtin_text)
