"""GET /media/<key>: signed presets only, negotiated format, cached for a year, no session, no traceback."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.db import transaction
from engagement.media import images, service, urls
from engagement.media.models import Media
from engagement.media.storage import StorageUnavailable
from engagement.media.variants import VariantCache
from tests.media_data import photo

WEBP_BROWSER = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"
OLD_BROWSER = "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"


@pytest.fixture
def media(app: Any) -> Media:
    with transaction(app.extensions["engagement"].sessions) as session:
        return service.upload(session, photo(1600, 1000), filename="manif.jpg", uploaded_by_id=None)


@pytest.fixture
def web(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any resize or storage read fails the test: the refusal must come before them."""
    def forbidden(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("decoded or read from storage")

    monkeypatch.setattr(images, "render", forbidden)
    monkeypatch.setattr(images, "header", forbidden)
    monkeypatch.setattr(VariantCache, "get", forbidden)


def _dimensions(data: bytes) -> tuple[int, int]:
    image = images.vips().Image.new_from_buffer(data, "")
    return image.width, image.height


def test_a_signed_card_is_a_progressive_jpeg_q70_for_a_browser_without_webp(web: Any, media: Media) -> None:
    response = web.get(urls.variant_url(media.key, "card"), headers={"Accept": OLD_BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff" and b"\xff\xc2" in response.data  # SOF2: progressive
    assert _dimensions(response.data) == (400, 225)
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"].startswith('"') and not response.headers["ETag"].startswith("W/")
    assert "Set-Cookie" not in response.headers


def test_the_jpeg_quality_is_about_70(web: Any, media: Media) -> None:
    q70 = web.get(urls.variant_url(media.key, "card", fm="jpg")).data
    pyvips = images.vips()
    source = pyvips.Image.new_from_buffer(q70, "")
    # Re-encoding the decoded variant at q70 gives about the same size; at q90 it is much larger.
    at70 = len(source.jpegsave_buffer(Q=70, interlace=True, optimize_coding=True, keep=0))
    at90 = len(source.jpegsave_buffer(Q=90, interlace=True, optimize_coding=True, keep=0))
    assert abs(len(q70) - at70) < 0.15 * at70 < at90 - at70


def test_a_browser_taking_webp_gets_webp(web: Any, media: Media) -> None:
    response = web.get(urls.variant_url(media.key, "card"), headers={"Accept": WEBP_BROWSER})
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WEBP"
    assert response.headers["Vary"] == "Accept"
    assert _dimensions(response.data) == (400, 225)


def test_a_format_in_the_url_is_served_whatever_the_browser_accepts(web: Any, media: Media) -> None:
    response = web.get(urls.variant_url(media.key, "og", fm="png"), headers={"Accept": WEBP_BROWSER})
    assert response.mimetype == "image/png" and _dimensions(response.data) == (1200, 630)
    assert "Vary" not in response.headers


def test_the_etag_gives_304(web: Any, media: Media) -> None:
    url = urls.variant_url(media.key, "thumbnail")
    first = web.get(url)
    again = web.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert web.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_second_request_is_served_from_the_cache(web: Any, media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    url = urls.variant_url(media.key, "hero_small")
    first = web.get(url)
    monkeypatch.setattr(images, "render", lambda *args: pytest.fail("rendered again"))
    assert web.get(url).data == first.data


def test_a_browser_session_is_neither_read_nor_written(app: Any, web: Any, media: Media,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(*_args: Any) -> Any:
        raise AssertionError("the session store was used")

    for name in ("open_session", "save_session"):
        monkeypatch.setattr(type(app.session_interface), name, no_session)
    web.set_cookie("engagement_session", "some-session-id")
    response = web.get(urls.variant_url(media.key, "card"))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


@pytest.mark.parametrize("tamper", [
    lambda url: url.replace("w=400", "w=401"),
    lambda url: url.replace("w=400", "w=4000"),
    lambda url: url.replace("q=70", "q=100"),
    lambda url: url + "&fm=png",
    lambda url: url.split("&s=")[0],
    lambda url: url.split("?")[0],
    lambda url: url[:-2] + ("AA" if not url.endswith("AA") else "BB"),
    lambda url: url + "&s=" + url.rsplit("=", 1)[1],
    lambda url: url.replace("/media/", "/media/../"),
])
def test_an_unsigned_or_tampered_url_is_403_without_reading_anything(web: Any, media: Media, no_decoding: None,
                                                                     tamper: Any) -> None:
    response = web.get(tamper(urls.variant_url(media.key, "card")))
    assert response.status_code == 403
    assert response.mimetype == "text/plain" and b"Traceback" not in response.data


def test_another_images_signature_is_403(web: Any, media: Media, no_decoding: None) -> None:
    other = "cd/" + "cd" * 32 + ".jpg"
    url = urls.variant_url(other, "card").replace(other, media.key)
    assert web.get(url).status_code == 403


def test_signed_parameters_of_no_preset_are_400(web: Any, media: Media, no_decoding: None) -> None:
    for params in ({"w": "401", "h": "225", "fit": "cover", "q": "70"},
                   {"w": "400", "h": "225", "fit": "cover", "q": "70", "fm": "gif"}):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = web.get(f"/media/{media.key}?{query}&s={urls.sign(media.key, params)}")
        assert response.status_code == 400, params


def test_an_unknown_image_is_404(web: Any, app: Any) -> None:
    missing = "ef/" + "ef" * 32 + ".jpg"
    response = web.get(urls.variant_url(missing, "card"))
    assert response.status_code == 404 and b"Traceback" not in response.data
    assert web.get(urls.variant_url("../../secret_key", "card")).status_code == 404


def test_a_storage_outage_is_503_with_a_short_body(web: Any, media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_args: Any) -> bytes:
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(service.library().storage, "get", down)
    response = web.get(urls.variant_url(media.key, "card"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert len(response.data) < 100 and b"refused" not in response.data


def test_a_cached_variant_is_served_while_the_storage_is_down(web: Any, media: Media,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    url = urls.variant_url(media.key, "card")
    first = web.get(url)
    monkeypatch.setattr(service.library().storage, "get", lambda key: pytest.fail("storage read"))
    assert web.get(url).data == first.data

