"""The check-in code drawn as a QR code (inline SVG, no image file or script)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str, title: str = "") -> Markup:
    """An inline ``<svg>`` of the QR code for ``text``, sized by its container.

    Error correction M (15 %) survives a projector's glare and a phone's angle;
    the 4-module white border is the quiet zone scanners need.
    """
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(
        scale=8,
        border=4,
        dark="#000",
        light="#fff",
        omitsize=True,
        title=title or None,
        svgclass="checkin-qr",
        lineclass=None,
    )
    return Markup(svg)  # segno escapes the title; the rest is its own markup
