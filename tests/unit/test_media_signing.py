"""Variant URLs are signed; every change to one of them breaks the signature."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from engagement import signing
from engagement.media import urls
from engagement.media.presets import FAMILIES, PRESETS, find

KEY = "ab/" + "ab" * 32 + ".jpg"


@pytest.fixture(autouse=True)
def secret() -> None:
    signing.configure("media-signing-test-secret")


def _split(url: str) -> tuple[str, dict[str, str], str | None]:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    return parts.path.removeprefix("/media/"), {k: v for k, v in params.items() if k != "s"}, params.get("s")


def test_a_variant_url_names_the_preset_and_its_signature_checks() -> None:
    url = urls.variant_url(KEY, "card")
    assert url.startswith(f"/media/{KEY}?w=400&h=225&fit=cover&q=70&s=")
    key, params, signature = _split(url)
    assert urls.is_signed(key, params, signature)
    assert find(params) is PRESETS["card"]


def test_the_format_is_signed_too() -> None:
    key, params, signature = _split(urls.variant_url(KEY, "og", fm="webp"))
    assert params["fm"] == "webp" and urls.is_signed(key, params, signature)
    assert not urls.is_signed(key, {**params, "fm": "png"}, signature)
    assert not urls.is_signed(key, {k: v for k, v in params.items() if k != "fm"}, signature)


@pytest.mark.parametrize("change", [
    {"w": "401"}, {"w": "4000"}, {"h": "2250"}, {"fit": "inside"}, {"q": "100"}, {"fm": "png"}, {"x": "1"},
])
def test_a_changed_parameter_breaks_the_signature(change: dict[str, str]) -> None:
    key, params, signature = _split(urls.variant_url(KEY, "card"))
    assert not urls.is_signed(key, {**params, **change}, signature)


def test_another_key_breaks_the_signature() -> None:
    _key, params, signature = _split(urls.variant_url(KEY, "card"))
    assert not urls.is_signed("cd/" + "cd" * 32 + ".jpg", params, signature)


@pytest.mark.parametrize("signature", [None, "", "short", "A" * 22, "!" * 22, "A" * 23])
def test_a_missing_or_malformed_signature_is_refused(signature: str | None) -> None:
    key, params, _signature = _split(urls.variant_url(KEY, "card"))
    assert not urls.is_signed(key, params, signature)


def test_the_signature_of_another_secret_is_refused() -> None:
    key, params, signature = _split(urls.variant_url(KEY, "card"))
    signing.configure("another-deployment")
    assert not urls.is_signed(key, params, signature)
    assert urls.is_signed(key, params, _split(urls.variant_url(KEY, "card"))[2])


def test_the_media_signature_is_not_another_use_of_the_same_secret() -> None:
    # Its own salt: the signature is not the bare HMAC of the secret over the same text.
    import hashlib
    import hmac

    _key, params, signature = _split(urls.variant_url(KEY, "card"))
    canonical = KEY + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    bare = hmac.new(signing.key().encode(), canonical.encode(), hashlib.sha256).digest()[:16]
    import base64

    assert signature != base64.urlsafe_b64encode(bare).rstrip(b"=").decode()


def test_srcset_lists_each_width_of_the_family() -> None:
    entries = urls.srcset(KEY, "card").split(", ")
    assert [entry.rsplit(" ", 1)[1] for entry in entries] == ["400w", "800w"]
    assert entries[0].rsplit(" ", 1)[0] == urls.variant_url(KEY, "card")
    assert set(FAMILIES) == {"card", "hero", "thumbnail"}


def test_unknown_parameters_name_no_preset() -> None:
    assert find({"w": "400", "h": "225", "fit": "cover", "q": "90"}) is None
    assert find({"w": "400", "h": "225", "fit": "cover"}) is None
