"""Files kept between the steps of an import, on disk, never in the session cookie.

An uploaded file is stored under the upload folder by its SHA-256, in a folder
of the uploader's own: the preview and apply steps find it by that hash, and
nobody else can open it by guessing or knowing the hash. A result workbook (the
error rows and the new accounts' activation links) is stored under a random
name in the same folder and served only to the same user.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from flask import current_app

_SHA = re.compile(r"[0-9a-f]{64}")
_RESULT = re.compile(r"[A-Za-z0-9_-]{22,64}")


def _folder(user_id: int) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "imports" / str(int(user_id))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(path: Path, data: bytes) -> None:
    # Write then rename: a reader never sees half a file.
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def store_upload(data: bytes, user_id: int) -> str:
    """Keep the file for the next steps; its SHA-256 (hex) names it."""
    sha = hashlib.sha256(data).hexdigest()
    path = _folder(user_id) / f"{sha}.upload"
    if not path.exists():
        _write(path, data)
    return sha


def load_upload(sha: str, user_id: int) -> bytes | None:
    """The user's stored file with this hash, or None."""
    if not _SHA.fullmatch(sha):
        return None
    path = _folder(user_id) / f"{sha}.upload"
    return path.read_bytes() if path.is_file() else None


def store_result(data: bytes, user_id: int) -> str:
    """Keep a result workbook for download; returns its random name."""
    name = secrets.token_urlsafe(24)
    _write(_folder(user_id) / f"{name}.result", data)
    return name


def load_result(name: str, user_id: int) -> bytes | None:
    """The user's result workbook of that name, or None."""
    if not _RESULT.fullmatch(name):
        return None
    path = _folder(user_id) / f"{name}.result"
    return path.read_bytes() if path.is_file() else None
