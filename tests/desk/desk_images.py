"""Images made with Pillow for the desk tests (imported by conftest and tests by this unique name)."""
from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def photo_like(width: int, height: int, *, seed: int = 7) -> Image.Image:
    """A busy, photo-like picture (gradients and shapes), so that it compresses like a photo."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(5, max(6, width // 8))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    return Image.blend(image, noise, 0.25)


def encoded(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
