"""Helpers for tests that need tools outside Python (browser, node parsers, libical)."""

from __future__ import annotations

import os

import pytest


def require_tool(available: bool, reason: str) -> None:
    """Skip when a tool is missing, but fail in CI (PDTRACKER_REQUIRE_INTEROP=1)."""
    if available:
        return
    if os.environ.get("PDTRACKER_REQUIRE_INTEROP") == "1":
        pytest.fail(f"required tool missing in CI: {reason}")
    pytest.skip(reason)
