"""Evidence files on disk: content sniffing, atomic storage, removal.

Pure of Flask: callers pass the folder and the limits in and get codes back, not text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype

logger = logging.getLogger(__name__)

# Content type → the extension the stored file gets (never taken from the upload's name).
ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
}
SNIFF_BYTES = 262  # what filetype needs to recognise every type it knows
CHUNK = 64 * 1024
SUBFOLDER = "evidence"


class UploadRejected(ValueError):
    """The upload is refused; `code` says why: empty, too_large or bad_type."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class StoredUpload:
    """A file written to the evidence folder, with what the database records of it."""

    stored_name: str
    original_name: str
    content_type: str
    size_bytes: int
    sha256: str


def sniff(head: bytes) -> str | None:
    """The allowed content type the bytes begin with, or None."""
    mime = filetype.guess_mime(head) if head else None
    return mime if mime in ALLOWED_TYPES else None


def stream_size(stream: IO[bytes]) -> int:
    """Bytes from the current position to the end of a seekable stream (position kept)."""
    start = stream.tell()
    size = stream.seek(0, os.SEEK_END) - start
    stream.seek(start)
    return size


def check_upload(stream: IO[bytes], max_bytes: int) -> str:
    """Return the sniffed content type, or raise UploadRejected (position kept)."""
    size = stream_size(stream)
    if size == 0:
        raise UploadRejected("empty")
    if size > max_bytes:
        raise UploadRejected("too_large")
    start = stream.tell()
    head = stream.read(SNIFF_BYTES)
    stream.seek(start)
    content_type = sniff(head)
    if content_type is None:
        raise UploadRejected("bad_type")
    return content_type


def clean_name(filename: str | None) -> str:
    """The upload's own name without any path, bounded to the column's size."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-255:] or "evidence"


def evidence_dir(upload_folder: str | os.PathLike) -> Path:
    """The folder evidence files live in (created when missing)."""
    folder = Path(upload_folder) / SUBFOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stored_path(upload_folder: str | os.PathLike, stored_name: str) -> Path:
    """Where a stored file lives; refuses names that are not ours."""
    if not stored_name or "/" in stored_name or "\\" in stored_name:
        raise ValueError("bad stored name")
    if stored_name.startswith("."):
        raise ValueError("bad stored name")
    return Path(upload_folder) / SUBFOLDER / stored_name


def save_upload(
    stream: IO[bytes],
    filename: str | None,
    upload_folder: str | os.PathLike,
    max_bytes: int,
) -> StoredUpload:
    """Check and write an upload under a generated name, atomically.

    The bytes go to a temporary file in the same folder which is renamed once complete,
    so a crash never leaves a half-written file under a real name.
    """
    content_type = check_upload(stream, max_bytes)
    folder = evidence_dir(upload_folder)
    stored_name = secrets.token_hex(16) + ALLOWED_TYPES[content_type]
    tmp = folder / f".tmp-{secrets.token_hex(8)}"
    digest, size = hashlib.sha256(), 0
    try:
        with open(tmp, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:  # the stream grew after the check
                    raise UploadRejected("too_large")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / stored_name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StoredUpload(
        stored_name=stored_name,
        original_name=clean_name(filename),
        content_type=content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
    )


def remove_stored(upload_folder: str | os.PathLike, stored_names: list[str]) -> None:
    """Delete stored files; a file already gone is not an error."""
    for name in stored_names:
        try:
            stored_path(upload_folder, name).unlink(missing_ok=True)
        except (OSError, ValueError):
            # The row is gone already; an orphan file is harmless and logged for cleanup.
            logger.warning("could not remove evidence file %s", name, exc_info=True)
