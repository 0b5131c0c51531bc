"""Reading ruleset documents (TOML or YAML) with the line of every field.

Errors name the line and the field, e.g.
``line 12: levels[1].requirements[0].threshold: must be a positive number``.
YAML lines come from PyYAML's node marks. tomllib reports no positions, so a small
scanner (:func:`toml_key_lines`) walks the already-validated TOML text and records
the line of every table header and key; a field inside an inline table or array is
reported at the line of its nearest enclosing key. :class:`Checker` collects the
problems found while walking a document; :mod:`.rulebook` says what is valid.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from .definitions import LocalizedText, Measure

Path = tuple[str | int, ...]

MAX_DOCUMENT_CHARS = 200_000
MAX_FILTER_VALUES = 100
WHOLE_MEASURES = frozenset(
    {Measure.DISTINCT_DAYS, Measure.COUNT, Measure.VALID_ON_DATE}
)


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


class Checker:
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
