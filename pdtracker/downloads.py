"""Names for uploaded files sent back as downloads.

Uploads are accepted by their content (a PDF, JPEG or PNG is sniffed), but the
uploader's name is shown again on download. A PDF named ``说明.hta`` or
``x.bat`` would then be saved with that extension and opened by Windows as a
program. The name offered for download therefore always ends in the extension
of the detected type; the uploader's stem is kept so the user recognises it.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from pdtracker.activities.evidence import ALLOWED_TYPES


def download_name(original: str | None, content_type: str, fallback: str) -> str:
    """The uploader's name with the detected type's extension (``x.hta`` → ``x.pdf``)."""
    name = (original or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or fallback
    if _matches(name, content_type):
        return name
    stem = PurePosixPath(name).stem if "." in name[1:] else name
    if _matches(stem, content_type):  # 证明.pdf.exe → 证明.pdf
        return stem
    return (stem or fallback) + extension_of(content_type)


def extension_of(content_type: str) -> str:
    """The extension stored files of that type get (``.bin`` when unknown)."""
    return (
        ALLOWED_TYPES.get(content_type)
        or mimetypes.guess_extension(content_type or "")
        or ".bin"
    )


def _matches(name: str, content_type: str) -> bool:
    return "." in name[1:] and mimetypes.guess_type(name)[0] == content_type
