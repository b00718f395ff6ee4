"""The image work, on bytes, with libvips (pyvips): checks, re-encoding, placeholders and variants.

pyvips is imported on first use: the web process pays for it only when an image is touched."""

from __future__ import annotations

import base64
import logging
import threading
from dataclasses import dataclass
from typing import Any

from engagement.media.presets import FORMATS, Preset, box

#: Magic bytes of the types accepted, and the libvips loader each must be read with.
TYPES = {"jpeg": ("image/jpeg", "jpg", "jpegload"), "png": ("image/png", "png", "pngload"),
         "webp": ("image/webp", "webp", "webpload"), "gif": ("image/gif", "gif", "gifload")}
LOADER_CLASSES = ("VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp", "VipsForeignLoadNsgif")
UNBOUNDED = 10_000_000  # libvips' largest coordinate: "no limit" for a height
_ready = threading.Lock()
_vips: dict[str, Any] = {}


class ImageError(ValueError):
    """The bytes are not an image we take; ``code`` says why (as MediaRefused's codes)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Encoded:
    """An image as stored: re-encoded, upright, without metadata."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def vips() -> Any:
    """The pyvips module, with every loader but JPEG, PNG, WebP and GIF blocked (SVG, PDF, HEIF... never run)."""
    with _ready:
        if "module" not in _vips:
            import pyvips

            logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips narrates every resize at INFO
            pyvips.operation_block_set("VipsForeignLoad", True)
            for name in LOADER_CLASSES:
                pyvips.operation_block_set(name, False)
            pyvips.cache_set_max(0)  # no operation cache: each request's buffers are freed when it ends
            _vips["module"] = pyvips
    return _vips["module"]


def sniff(data: bytes) -> str | None:
    """The type the first bytes announce (jpeg, png, webp, gif), whatever the file is called."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def header(data: bytes, kind: str) -> tuple[int, int]:
    """Width and height from the header alone: no pixel is decoded (a bomb is measured, not opened)."""
    pyvips = vips()
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error as error:  # the right magic bytes, then no readable header
        raise ImageError("truncated", "the image is damaged or incomplete") from error
    if not image.get("vips-loader").startswith(TYPES[kind][2]):
        raise ImageError("type", "the content does not match its magic bytes")
    return image.width, image.height


def reencode(data: bytes, kind: str) -> Encoded:
    """Decode every pixel (a truncated file fails), turn upright, sRGB, strip metadata, encode again.

    JPEG stays progressive JPEG q85, PNG stays PNG, WebP stays WebP (q85); a GIF keeps its first frame, as PNG."""
    pyvips = vips()
    try:
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error").autorot()
        image = _srgb(image)
        if kind == "jpeg":
            out = image.jpegsave_buffer(Q=85, interlace=True, optimize_coding=True, keep=_keep_none())
        elif kind == "webp":
            out = image.webpsave_buffer(Q=85, keep=_keep_none())
        else:
            out = image.pngsave_buffer(compression=6, keep=_keep_none())
    except pyvips.Error as error:
        raise ImageError("truncated", "the image is damaged or incomplete") from error
    stored = "png" if kind == "gif" else kind
    content_type, extension, _loader = TYPES[stored]
    return Encoded(out, content_type, extension, image.width, image.height)


def _srgb(image: Any) -> Any:
    if image.get_typeof("icc-profile-data"):  # the colours as meant, since the profile is stripped
        image = image.icc_transform("srgb", embedded=True)
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb" if image.bands >= 3 or image.interpretation == "cmyk" else "b-w")
    return image.cast("uchar") if image.format != "uchar" else image


def _keep_none() -> int:
    return int(vips().enums.ForeignKeep.NONE)


def placeholder(data: bytes) -> str:
    """A ``data:`` URI of a 20 px wide, blurred JPEG (q50) of ``data``: well under 1 KB."""
    pyvips = vips()
    image = pyvips.Image.thumbnail_buffer(data, 20, height=UNBOUNDED)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    image = image.gaussblur(0.8)
    out = image.jpegsave_buffer(Q=50, keep=_keep_none())
    return "data:image/jpeg;base64," + base64.b64encode(out).decode()


def render(data: bytes, preset: Preset, fmt: str) -> bytes:
    """The ``preset`` variant of a stored image in ``fmt`` (jpg, webp, png): shrink-on-load, never upscaled."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    pyvips = vips()
    source = pyvips.Image.new_from_buffer(data, "", access="sequential")
    width, height = box(preset, source.width, source.height)
    if preset.fit == "cover":
        image = pyvips.Image.thumbnail_buffer(data, width, height=height, crop="centre", size="down")
    else:
        image = pyvips.Image.thumbnail_buffer(data, preset.width, height=preset.height or UNBOUNDED, size="down")
    if fmt == "jpg":
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])  # JPEG has no transparency: on white
        return bytes(image.jpegsave_buffer(Q=preset.quality, interlace=True, optimize_coding=True,
                                           keep=_keep_none()))
    if fmt == "webp":
        return bytes(image.webpsave_buffer(Q=preset.quality, keep=_keep_none()))
    return bytes(image.pngsave_buffer(compression=6, keep=_keep_none()))
