"""The CJK font every paper embeds, found where Debian installs it.

Papers are read on phones and in offices whose PDF readers may have no Chinese
font at all, so the font is embedded (WeasyPrint subsets and embeds every
``@font-face`` it uses). The font comes from Debian's ``fonts-wqy-microhei``
package (or ``fonts-noto-cjk``): fontconfig is asked first, then the packages'
standard paths. Without one, papers cannot be made and the error says which
package to install.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from pdtracker.failures import CodedError

FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
# Debian's standard locations for the packages above (fonts-wqy-microhei, fonts-noto-cjk).
DEBIAN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CJK_SUFFIXES = (".ttc", ".ttf", ".otf")


class FontMissing(CodedError):
    """No Chinese font is installed: papers cannot be made."""

    code = "font_missing"

    def __str__(self) -> str:
        return (
            "no CJK font found: install Debian's fonts-wqy-microhei "
            "(apt-get install fonts-wqy-microhei)"
        )


def _fontconfig(family: str) -> Path | None:
    """The file fontconfig picks for the family, if it is really that family."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        out = subprocess.run(
            [fc_match, "--format=%{family}\n%{file}", family],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    names, _, file = out.partition("\n")
    # fc-match always answers; a fallback to DejaVu would have no Chinese glyphs.
    if family.casefold() not in names.casefold():
        return None
    path = Path(file.strip())
    return path if path.suffix.lower() in CJK_SUFFIXES and path.is_file() else None


@functools.cache
def cjk_font() -> Path:
    """The CJK font file to embed; FontMissing when none is installed."""
    for family in FAMILIES:
        found = _fontconfig(family)
        if found is not None:
            return found
    for candidate in DEBIAN_PATHS:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FontMissing
