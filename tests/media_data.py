"""Images for the media tests, made with pyvips on the spot (no binary fixtures)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from engagement.media.images import vips


def picture(width: int, height: int, bands: int = 3) -> Any:
    """A smooth gradient with mild noise: it compresses like a photograph, not like noise or a flat colour."""
    pyvips = vips()
    x = pyvips.Image.xyz(width, height)
    red = x[0] * (255 / max(width - 1, 1))
    green = x[1] * (255 / max(height - 1, 1))
    blue = (x[0] + x[1]) * (255 / max(width + height - 2, 1))
    noise = pyvips.Image.gaussnoise(width, height, sigma=6, mean=0)
    image = red.bandjoin([green, blue]) + noise
    if bands == 4:
        image = image.bandjoin(255)
    return image.cast("uchar").copy(interpretation="srgb")


def photo(width: int, height: int, suffix: str = ".jpg", **options: Any) -> bytes:
    """``picture`` encoded (JPEG q90 unless told)."""
    if suffix == ".jpg":
        options.setdefault("Q", 90)
    return bytes(picture(width, height).write_to_buffer(suffix, **options))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG of a few hundred bytes whose header declares width x height pixels (2.5 gigapixels by default)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)  # a few rows of zeros: the rest is "missing"
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")
