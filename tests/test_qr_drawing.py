"""booking.qr: the one QR encoding behind the booker's PNG and the invitation slips' SVG."""
from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from booking import qr

TEXTS = ["http://localhost/r/AbCdEfGhIjKlMnOpQrStUv", "https://desk.example.jp/i/" + "x" * 22]


def decode(image: Image.Image) -> str:
    [barcode] = zxingcpp.read_barcodes(image)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text


def svg_modules(markup: str) -> list[list[bool]]:
    """The dark modules an SVG from qr.svg draws, read back from its path of runs."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', markup).group(1))
    matrix = [[False] * size for _ in range(size)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", markup):
        for dx in range(int(width)):
            matrix[int(y)][int(x) + dx] = True
    return matrix


@pytest.mark.parametrize("text", TEXTS)
def test_the_png_says_the_text(text):
    png = qr.png(text)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(Image.open(io.BytesIO(png))) == text


@pytest.mark.parametrize("text", TEXTS)
def test_the_svg_draws_the_modules_and_they_say_the_text(text):
    markup = str(qr.svg(text, label="QR", css_class="slip__qr"))
    matrix = qr.modules(text)
    assert svg_modules(markup) == matrix
    scale = 8
    image = Image.new("L", (len(matrix) * scale, len(matrix) * scale), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    assert decode(image) == text


def test_the_svg_escapes_its_label_and_class():
    markup = str(qr.svg("http://localhost/i/abc", label='QR "code" <of> you', css_class='a"b'))
    assert 'aria-label="QR &#34;code&#34; &lt;of&gt; you"' in markup
    assert 'class="a&#34;b"' in markup
