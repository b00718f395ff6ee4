"""What templates/_media.html calls: the presets of a family, signed variant URLs, the variants' sizes."""

from __future__ import annotations

from flask import Blueprint

from engagement.media import presets, urls
from engagement.media.models import Media
from web.app import current_core


def media_family(family: str) -> tuple[str, ...]:
    """The presets of ``family``, smallest first (the first is the ``src``)."""
    return presets.FAMILIES[family]


def media_url(key: str, preset: str) -> str:
    return urls.variant_url(key, preset)


def media_srcset(key: str, family: str) -> str:
    return urls.srcset(key, family)


def media_size(media: Media, preset: str) -> tuple[int, int]:
    return urls.intrinsic_size(media, preset)


def media_og(media: Media) -> str:
    """The absolute URL of the Open Graph variant (1200x630) of ``media``, for link previews."""
    return current_core().settings.site_url + urls.variant_url(media.key, "og")


def register(bp: Blueprint) -> None:
    """Make the helpers template globals of the whole app."""
    for helper in (media_family, media_url, media_srcset, media_size, media_og):
        bp.add_app_template_global(helper)
