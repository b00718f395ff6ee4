"""Signed variant URLs: ``/media/<key>?w=&h=&fit=&q=[&fm=]&s=``, and what pages need to lay images out.

The signature is HMAC-SHA256 over the key and the sorted parameters, keyed by a key derived from SECRET_KEY
with this module's own salt, cut to 128 bits (22 URL-safe characters)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlencode

from engagement import signing
from engagement.media.presets import FAMILIES, PRESETS, box

SALT = b"engagement.media.variant"
SIGNATURE = re.compile(r"[A-Za-z0-9_-]{22}")
ORDER = ("w", "h", "fit", "q", "fm")  # the URL's order, for people reading it (the signature sorts)


class Sized(Protocol):
    width: int
    height: int


@lru_cache(maxsize=4)
def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode(), SALT, hashlib.sha256).digest()


def sign(key: str, params: Mapping[str, str]) -> str:
    """The signature of ``key`` with ``params`` (every query parameter but ``s``)."""
    canonical = key + "?" + urlencode(sorted(params.items()))
    digest = hmac.new(_derived(signing.key()), canonical.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def is_signed(key: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether ``signature`` is ours for ``key`` and ``params`` (compared in constant time)."""
    if signature is None or not SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(sign(key, params), signature)


def variant_url(key: str, preset: str, fm: str | None = None) -> str:
    """The path (no host) of ``key``'s ``preset`` variant; ``fm`` (jpg, webp, png) fixes the format,
    else the endpoint picks WebP for browsers that take it and JPEG for the others."""
    return _variant_url(signing.key(), key, preset, fm)


def srcset(key: str, family: str) -> str:
    """``"<url> 400w, <url> 800w"``: the family's variants, each with its width."""
    return _srcset(signing.key(), key, family)


# Pages sign the same few images at every request: each URL is computed once per process (and secret).
@lru_cache(maxsize=8192)
def _variant_url(_secret: str, key: str, preset: str, fm: str | None) -> str:
    params = PRESETS[preset].params()
    if fm is not None:
        params["fm"] = fm
    ordered = {name: params[name] for name in ORDER if name in params}
    return f"/media/{key}?{urlencode(ordered)}&s={sign(key, params)}"


@lru_cache(maxsize=4096)
def _srcset(secret: str, key: str, family: str) -> str:
    return ", ".join(f"{_variant_url(secret, key, name, None)} {PRESETS[name].width}w" for name in FAMILIES[family])


def intrinsic_size(media: Sized, preset: str) -> tuple[int, int]:
    """The width and height ``preset``'s variant of ``media`` has (for the img tag: no layout shift)."""
    return box(PRESETS[preset], media.width, media.height)
