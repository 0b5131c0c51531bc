"""The instance's secret key, generated once and kept in the instance folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def instance_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it (mode 600) on first use."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
