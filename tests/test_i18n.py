"""Every string the code and templates mark for translation has a Chinese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "pdtracker/translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def test_every_marked_string_has_a_chinese_translation(tmp_path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
         str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "-o", str(pot),
         str(ROOT)],
        check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        translated = {m.id for m in read_po(fh) if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], (
        f"untranslated (run make i18n-update and translate): {missing}"
    )
