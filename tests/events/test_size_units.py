"""Upload limits read in the page's language (issue 15: no untranslated "599 Bytes").

The file fields of every form announce their limit through _macros.render_field:
the number in the locale's format and the unit through the catalog, as the
file_size filter writes them, in English and in Chinese.
"""

from __future__ import annotations

import html
import re

import pytest

from pdtracker.events import forms


def _too_large(client, auth, locale: str) -> str:
    auth.login("staff1")
    client.post("/language", data={"locale": locale})
    page = client.get("/events/import").get_data(as_text=True)
    (message,) = re.findall(r'data-too-large="([^"]*)"', page)
    return html.unescape(message)


@pytest.mark.parametrize(
    ("limit", "locale", "size"),
    [
        (5 * 1024 * 1024, "en", "at most 5 MB."),
        (1536, "en", "at most 1.5 KB."),
        (1000, "en", "at most 1,000 bytes."),
        (1000, "zh", "最大为 1,000 字节。"),
        (5 * 1024 * 1024, "zh", "最大为 5 MB。"),
    ],
)
def test_the_limit_of_a_file_field_reads_in_the_pages_language(
    client, auth, world, monkeypatch, limit, locale, size
) -> None:
    field = forms.ImportForm.file.kwargs["validators"]
    monkeypatch.setattr(next(v for v in field if hasattr(v, "max_size")), "max_size",
                        limit)  # fmt: skip
    assert size in _too_large(client, auth, locale)
