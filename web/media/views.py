"""GET /media/<key>?w=&h=&fit=&q=[&fm=]&s= : a signed preset of a stored image, cached on disk."""

from __future__ import annotations

import hashlib
import logging
import re

from flask import Blueprint, Response, current_app, request

from engagement.media import urls
from engagement.media.models import KEY_PATTERN
from engagement.media.presets import FORMATS, find
from engagement.media.storage import MediaMissing, StorageUnavailable
from engagement.media.variants import VariantCache

bp = Blueprint("media", __name__)
log = logging.getLogger(__name__)
KEY = re.compile(KEY_PATTERN)
FOREVER = "public, max-age=31536000, immutable"  # a URL names one content: its key is the content's hash


@bp.get("/media/<path:key>")
def variant(key: str) -> Response:
    """403 unsigned or tampered (before storage or decoding), 400 no such preset, 404 no such image,
    503 storage down; else the variant, in the format asked (fm) or negotiated (WebP when accepted)."""
    if any(len(values) > 1 for values in request.args.listvalues()):
        return _plain(403, "Forbidden: a parameter is repeated.")
    params = {name: value for name, value in request.args.items() if name != "s"}
    if not urls.is_signed(key, params, request.args.get("s")):
        return _plain(403, "Forbidden: the link is not signed, or was changed.")
    fm = params.pop("fm", None)
    preset = find(params)
    if preset is None or (fm is not None and fm not in FORMATS):
        return _plain(400, "Bad request: no such image size or format.")
    if not KEY.fullmatch(key):
        return _plain(404, "Not found.")
    fmt = fm or ("webp" if _accepts_webp() else "jpg")
    cache: VariantCache = current_app.extensions["media"]
    try:
        data = cache.get(key, preset, fmt)
    except MediaMissing:
        return _plain(404, "Not found.")
    except StorageUnavailable as error:
        log.warning("media storage unavailable: %s", error)
        return _plain(503, "The images are unavailable for a moment; please try again.", retry_after=30)
    return _image(data, fmt, negotiated=fm is None)


def _accepts_webp() -> bool:
    # Only an explicit image/webp: browsers without WebP send */* too.
    return any(value == "image/webp" and quality > 0 for value, quality in request.accept_mimetypes)


def _image(data: bytes, fmt: str, negotiated: bool) -> Response:
    response = Response(data, mimetype=FORMATS[fmt])
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])  # strong: the same bytes, the same tag
    response.headers["Cache-Control"] = FOREVER
    response.headers["X-Content-Type-Options"] = "nosniff"
    if negotiated:
        response.vary.add("Accept")
    return response.make_conditional(request)


def _plain(status: int, text: str, retry_after: int | None = None) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
