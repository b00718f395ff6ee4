"""What templates/_media.html calls: the presets of a family, signed variant URLs, the variants' sizes."""

from __future__ import annotations

from flask import Blueprint

from engagement.media import presets, urls
from engagement.media.models import Media
from web.db import current_core


def media_og(media: Media) -> str:
    """The absolute URL of the Open Graph variant (1200x630) of ``media``, for link previews."""
    return current_core().settings.site_url + urls.variant_url(media.key, "og")


def register(bp: Blueprint) -> None:
    """Make the helpers template globals of the whole app (media_family: the presets of a family, smallest
    first, the first being the ``src``)."""
    bp.add_app_template_global(presets.FAMILIES.__getitem__, "media_family")
    bp.add_app_template_global(urls.variant_url, "media_url")
    bp.add_app_template_global(urls.srcset, "media_srcset")
    bp.add_app_template_global(urls.intrinsic_size, "media_size")
    bp.add_app_template_global(media_og)
