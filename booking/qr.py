"""QR codes the app draws: one encoding, as a PNG for a phone's screen or as inline SVG for print.

Medium error correction survives a cracked phone screen, a glare at the desk or a smudged
printed slip. The text is a link (a manage or invitation URL): it carries a token and no
personal data.
"""
from __future__ import annotations

import io

import qrcode
from markupsafe import Markup, escape
from qrcode.image.pil import PilImage


def _code(text: str, *, border: int, mask_pattern: int | None = None) -> qrcode.QRCode[PilImage]:
    code: qrcode.QRCode[PilImage] = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, mask_pattern=mask_pattern,
        image_factory=PilImage,
    )
    code.add_data(text)
    code.make(fit=True)
    return code


def png(text: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """The QR code as a PNG of box_size pixels a module, with the standard quiet zone of 4 modules.

    The mask is the best of the eight by the standard's penalty score: a PNG is drawn once per
    booking and scanned off a phone's screen, where that score helps the scanner most.
    """
    code = _code(text, border=border)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def modules(text: str, *, border: int = 2) -> list[list[bool]]:
    """The dark (True) and light modules, quiet zone included, as the SVG draws them.

    A fixed mask pattern skips the search for the best of eight masks (any mask is valid; the
    search only lowers a penalty score), which is most of the time a QR code takes: a sheet of
    100 invitation slips renders in well under a second.
    """
    return _code(text, border=border, mask_pattern=2).get_matrix()


def svg(text: str, *, label: str, css_class: str, border: int = 2) -> Markup:
    """The QR code as inline SVG, one path of horizontal runs: sharp when printed, and about ten
    times faster than a PNG. ``label`` is what a screen reader says for it."""
    matrix = modules(text, border=border)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    path = "".join(runs)
    size = len(matrix)
    return Markup(
        f'<svg class="{escape(css_class)}" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
