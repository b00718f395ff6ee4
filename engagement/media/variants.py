"""Resized variants on disk, made once: the first request renders, the others wait and read the file.

One lock file per variant (``fcntl.flock``): it queues the threads of a process and the processes of a
host alike, since each waiter opens the file itself. A variant is written aside, then renamed."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engagement.media import images
from engagement.media.presets import Preset
from engagement.media.storage import Storage, write_atomically

log = logging.getLogger(__name__)


class VariantCache:
    """The variants of one deployment's images, under ``root`` (MEDIA_CACHE_DIR)."""

    def __init__(self, root: Path, storage: Storage) -> None:
        self.root = root
        self.storage = storage

    def folder(self, key: str) -> Path:
        """Where ``key``'s variants live: ``<root>/ab/<sha256>/``."""
        return self.root / key.rpartition(".")[0]

    def path(self, key: str, preset: Preset, fmt: str) -> Path:
        return self.folder(key) / f"{preset.name}.{fmt}"

    def get(self, key: str, preset: Preset, fmt: str) -> bytes:
        """The variant's bytes, rendered now if no process has yet (MediaMissing, StorageUnavailable)."""
        path = self.path(key, preset, fmt)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path.with_name(path.name + ".lock")):
            try:
                return path.read_bytes()  # rendered while this request waited its turn
            except FileNotFoundError:
                pass
            data = images.render(self.storage.get(key), preset, fmt)
            write_atomically(path, data)
        log.info("media variant rendered: %s %s.%s (%d bytes)", key, preset.name, fmt, len(data))
        return data

    def forget(self, key: str) -> None:
        """Remove every variant of ``key`` (after the image is deleted)."""
        shutil.rmtree(self.folder(key), ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
