"""Uploading and deleting images: checked by content, re-encoded, stored once per content."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engagement.config import Settings
from engagement.media import images
from engagement.media.models import Media
from engagement.media.storage import NoStorage, Storage, StorageUnavailable, open_storage
from engagement.media.variants import VariantCache

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000
REFUSAL_CODES = ("empty", "too_large", "type", "too_many_pixels", "truncated")
log = logging.getLogger(__name__)


class MediaRefused(Exception):
    """An upload refused; ``code`` (one of REFUSAL_CODES) picks the message shown to the organizer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Library:
    """Where this deployment keeps its originals and its variants."""

    storage: Storage
    variants: VariantCache


_library: dict[str, Library] = {}


def configure(settings: Settings) -> Library:
    """Set the storage and variant cache from MEDIA_STORAGE_URL and MEDIA_CACHE_DIR (done by bootstrap)."""
    storage = open_storage(settings.media_storage_url)
    _library["current"] = library = Library(storage, VariantCache(settings.media_cache_dir, storage))
    return library


def library() -> Library:
    """The library ``configure`` set (``engagement.core.bootstrap`` calls it)."""
    if "current" not in _library:
        raise StorageUnavailable("the media library is not configured (engagement.core.bootstrap does it)")
    return _library["current"]


def check(data: bytes) -> str:
    """The type of ``data`` (jpeg, png, webp, gif) if it may be decoded at all; else MediaRefused.

    Only the header is read here: the pixel count is known before any pixel is decoded."""
    if not data:
        raise MediaRefused("empty", "the file is empty")
    if len(data) > MAX_BYTES:
        raise MediaRefused("too_large", f"more than {MAX_BYTES} bytes")
    kind = images.sniff(data)
    if kind is None:
        raise MediaRefused("type", "not a JPEG, PNG, WebP or GIF image")
    try:
        width, height = images.header(data, kind)
    except images.ImageError as error:
        raise MediaRefused(error.code, str(error)) from error
    if width * height > MAX_PIXELS:
        raise MediaRefused("too_many_pixels", f"{width}x{height} is more than {MAX_PIXELS} pixels")
    return kind


def upload(session: Session, data: bytes, *, filename: str, uploaded_by_id: int | None, alt: str = "") -> Media:
    """Store an image, re-encoded (EXIF, GPS included, stripped); the same content twice gives the same row."""
    kind = check(data)
    try:
        encoded = images.reencode(data, kind)
    except images.ImageError as error:
        raise MediaRefused(error.code, str(error)) from error
    sha = hashlib.sha256(encoded.data).hexdigest()
    if existing := session.scalar(select(Media).where(Media.sha256 == sha)):
        return existing
    key = f"{sha[:2]}/{sha}.{encoded.extension}"
    library().storage.put(key, encoded.data, encoded.content_type)  # StorageUnavailable: nothing recorded
    media = Media(key=key, content_type=encoded.content_type, width=encoded.width, height=encoded.height,
                  byte_size=len(encoded.data), sha256=sha, original_name=PurePath(filename).name[:255],
                  alt=alt[:300], placeholder=images.placeholder(encoded.data), uploaded_by_id=uploaded_by_id)
    try:
        with session.begin_nested():
            session.add(media)
    except IntegrityError:  # the same image, uploaded at the same moment by someone else
        return session.scalars(select(Media).where(Media.sha256 == sha)).one()
    log.info("media stored: %s (%dx%d, %d bytes)", key, encoded.width, encoded.height, len(encoded.data))
    return media


def delete(session: Session, media: Media) -> None:
    """Delete the row; its file and cached variants go once the transaction commits."""
    session.delete(media)
    pending: list[str] = session.info.setdefault("media_deleted", [])
    pending.append(media.key)
    if not session.info.get("media_hooks"):
        session.info["media_hooks"] = True
        event.listen(session, "after_commit", _remove_deleted)
        event.listen(session, "after_rollback", _forget_deleted)


def _remove_deleted(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the rows are not gone until the whole transaction commits
    lib = library()
    for key in session.info.pop("media_deleted", []):
        lib.variants.forget(key)
        if isinstance(lib.storage, NoStorage):
            continue
        try:
            lib.storage.delete(key)
        except StorageUnavailable:
            log.warning("media file left in storage (unavailable): %s", key)


def _forget_deleted(session: Session, *_args: Any) -> None:
    if session.in_nested_transaction():
        return  # only a SAVEPOINT rolled back: the transaction's deletions still happen at its commit
    session.info.pop("media_deleted", None)
