"""Upload checks by content: type by magic bytes, byte and pixel limits, bombs, truncation, re-encoding."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from engagement.media import images, service
from engagement.media.presets import PRESETS
from engagement.media.service import MAX_BYTES, MediaRefused
from engagement.media.urls import intrinsic_size
from tests.media_data import bomb_png, photo, picture


def _refusal(data: bytes) -> str:
    with pytest.raises(MediaRefused) as refused:
        service.check(data)
    return refused.value.code


@pytest.mark.parametrize("suffix, kind", [(".jpg", "jpeg"), (".png", "png"), (".webp", "webp"), (".gif", "gif")])
def test_the_four_types_are_recognised_by_their_bytes(suffix: str, kind: str) -> None:
    assert service.check(photo(40, 30, suffix)) == kind


def test_the_type_comes_from_the_content_not_the_name() -> None:
    assert images.sniff(photo(40, 30, ".png")) == "png"
    assert _refusal(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>") == "type"
    assert _refusal(b"%PDF-1.7\n" + b"x" * 100) == "type"
    assert _refusal(bytes(picture(40, 30).write_to_buffer(".tif"))) == "type"


def test_magic_bytes_that_lie_are_refused() -> None:
    # A JPEG's start on a PNG's body: read as what it claims to be (a JPEG), it is damaged.
    assert _refusal(b"\xff\xd8\xff" + photo(40, 30, ".png")) == "truncated"


def test_an_empty_file_is_refused() -> None:
    assert _refusal(b"") == "empty"


def test_too_many_bytes_are_refused_before_reading_them(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reading(*_args: Any) -> Any:
        raise AssertionError("the header was read")

    monkeypatch.setattr(images, "header", no_reading)
    assert _refusal(b"\xff\xd8\xff" + b"\0" * MAX_BYTES) == "too_large"


def test_a_decompression_bomb_is_refused_from_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = bomb_png()
    assert len(bomb) < 1000
    decoded = []
    monkeypatch.setattr(images, "reencode", lambda *args: decoded.append(args))
    with pytest.raises(MediaRefused) as refused:
        service.upload(None, bomb, filename="bomb.png", uploaded_by_id=None)  # type: ignore[arg-type]
    assert refused.value.code == "too_many_pixels"
    assert "50000x50000" in str(refused.value)
    assert decoded == []


def test_the_pixel_limit_is_40_megapixels() -> None:
    assert service.check(bomb_png(8000, 5000)) == "png"  # exactly 40 MP: the header is all that is read
    assert _refusal(bomb_png(8001, 5000)) == "too_many_pixels"


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_a_truncated_file_is_refused(suffix: str) -> None:
    whole = photo(300, 200, suffix)
    with pytest.raises(MediaRefused) as refused:  # refused before the session is used
        service.upload(None, whole[: len(whole) * 2 // 3], filename="cut" + suffix,  # type: ignore[arg-type]
                       uploaded_by_id=None)
    assert refused.value.code == "truncated"


def test_reencoding_turns_the_image_upright_and_strips_exif_and_gps() -> None:
    pyvips = images.vips()
    source = picture(60, 30).copy()
    source = source.insert(pyvips.Image.black(10, 30).new_from_image([255, 0, 0]), 0, 0)  # red on the left
    source.set_type(pyvips.GValue.gint_type, "orientation", 6)  # "turn 90 degrees clockwise to show"
    source.set_type(pyvips.GValue.gstr_type, "exif-ifd3-GPSLatitudeRef", "N")
    source.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "Secret Phone")
    data = bytes(source.write_to_buffer(".jpg", Q=95))
    assert b"Secret Phone" in data and "exif-ifd3-GPSLatitudeRef" in pyvips.Image.new_from_buffer(data, "").get_fields()

    encoded = images.reencode(data, "jpeg")

    assert (encoded.width, encoded.height, encoded.content_type, encoded.extension) == (30, 60, "image/jpeg", "jpg")
    out = pyvips.Image.new_from_buffer(encoded.data, "")
    assert not [name for name in out.get_fields() if name.startswith(("exif", "icc", "xmp", "iptc"))]
    assert b"Secret Phone" not in encoded.data and b"Exif" not in encoded.data
    top = out.crop(0, 0, 30, 8)  # the red band on the left is now along the top
    assert top[0].avg() > 200 and top[1].avg() < 60
    assert b"\xff\xc2" in encoded.data  # progressive (SOF2)


def test_a_gif_keeps_its_first_frame_as_png_and_png_stays_png() -> None:
    assert images.reencode(photo(40, 30, ".gif"), "gif").content_type == "image/png"
    assert images.reencode(photo(40, 30, ".png"), "png").content_type == "image/png"
    assert images.reencode(photo(40, 30, ".webp"), "webp").content_type == "image/webp"


def test_the_placeholder_is_a_small_blurred_20_pixel_jpeg() -> None:
    uri = images.placeholder(photo(3000, 2000))
    assert uri.startswith("data:image/jpeg;base64,") and len(uri) < 1024
    thumb = images.vips().Image.new_from_buffer(base64.b64decode(uri.split(",", 1)[1]), "")
    assert (thumb.width, thumb.height) == (20, 13)


@pytest.mark.parametrize("size", [(3000, 2000), (2000, 3000), (300, 200), (120, 90), (801, 451), (1199, 677)])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_intrinsic_size_is_the_size_rendered(size: tuple[int, int], preset: str) -> None:
    width, height = size
    data = bytes(picture(width, height).write_to_buffer(".png", compression=1))
    out = images.vips().Image.new_from_buffer(images.render(data, PRESETS[preset], "png"), "")
    media = type("M", (), {"width": width, "height": height})()
    assert (out.width, out.height) == intrinsic_size(media, preset)
    assert out.width <= width and out.height <= height  # never upscaled
