"""The CJK font: found through fontconfig or Debian's paths, else a clear error."""

from __future__ import annotations

import pytest

from pdtracker.papers import fonts


def test_the_debian_font_is_found():
    fonts.cjk_font.cache_clear()
    path = fonts.cjk_font()
    assert path.is_file()
    assert path.suffix in fonts.CJK_SUFFIXES


def test_missing_font_says_which_package_to_install(monkeypatch, tmp_path):
    fonts.cjk_font.cache_clear()
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    monkeypatch.setattr(fonts, "DEBIAN_PATHS", (str(tmp_path / "none.ttc"),))
    with pytest.raises(fonts.FontMissing) as raised:
        fonts.cjk_font()
    assert "fonts-wqy-microhei" in str(raised.value)
    fonts.cjk_font.cache_clear()
