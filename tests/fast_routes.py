"""Tests build a fresh app for every test; Werkzeug compiles each URL rule's
builder from an AST every time (about 1 ms a rule, 160 rules an app). The code
it compiles depends only on the rule's own parts, so the test run keeps one
compiled builder per distinct rule and binds it to each new Rule. Production
builds one app per process and is left as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_original = Rule._compile_builder
_builders: dict[tuple, Callable[..., Any]] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple:
    # A converter's settings (its map, shared by every rule, left out).
    converters = tuple(
        (
            name,
            type(conv).__qualname__,
            repr(sorted((k, v) for k, v in vars(conv).items() if k != "map")),
        )
        for name, conv in sorted(rule._converters.items())
    )
    return (
        append_unknown,
        tuple(rule._trace),
        repr(sorted((rule.defaults or {}).items())),
        converters,
    )


def _compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
    key = _key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    """Reuse compiled URL builders across the test run's apps."""
    Rule._compile_builder = _compile_builder  # type: ignore[method-assign]
