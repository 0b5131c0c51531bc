"""Papers as PDF: Jinja HTML templates rendered by WeasyPrint, Chinese first.

WeasyPrint lays out HTML and CSS (tables that break across pages, headers,
wrapping Chinese text) and subsets and embeds the fonts it uses, so a template
is all a paper needs. The output is deterministic: the same paper renders to the
same bytes (its creation date is the issue time, not the clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from flask import render_template
from flask_babel import force_locale

from pdtracker.papers.fonts import cjk_font

# The Chinese catalogue's name (pdtracker/translations/zh_Hans_CN): with plain "zh"
# Flask-Babel finds no catalogue and the papers came out in the English msgids.
PAPER_LOCALE = "zh_Hans_CN"


def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data URI for an ``<img>`` (error level M)."""
    return str(segno.make(url, error="m", micro=False).svg_data_uri(border=4))


def render_pdf(template: str, *, created: datetime, **context: Any) -> bytes:
    """Render ``papers/<template>`` in Chinese and return the PDF's bytes."""
    from weasyprint import HTML  # heavy: loaded when a paper is made, not at startup

    with force_locale(PAPER_LOCALE):
        html = render_template(
            f"papers/{template}",
            font_url=cjk_font().as_uri(),
            created=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **context,
        )
    return HTML(string=html).write_pdf()
