"""Where originals live: a local directory, or a bucket through fsspec (s3fs, gcsfs: ``engagement[s3]``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit


class MediaMissing(LookupError):
    """No stored file has this key (deleted, or never uploaded here)."""


class StorageUnavailable(RuntimeError):
    """The storage did not answer (network, permissions, no storage configured)."""


class Storage(Protocol):
    """What the media library needs of a store of files named by key (``ab/<sha256>.jpg``)."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def open(self, key: str) -> IO[bytes]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under one directory; a file appears whole or not at all (written aside, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise MediaMissing(key)
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as error:
            raise StorageUnavailable(str(error)) from error

    def get(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as error:
            raise MediaMissing(key) from error
        except OSError as error:
            raise StorageUnavailable(str(error)) from error

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class BucketStorage:
    """A bucket (``s3://bucket/prefix``, ``gs://...``, ``memory://...``) through fsspec."""

    def __init__(self, url: str, **options: Any) -> None:
        import fsspec

        try:
            self.fs, self.root = fsspec.core.url_to_fs(url, **options)
        except ImportError as error:  # s3fs or gcsfs missing
            raise RuntimeError(f"MEDIA_STORAGE_URL needs a package: pip install 'engagement[s3]' ({error})") from error
        self.root = self.root.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def _call(self, method: str, key: str, *args: Any) -> Any:
        try:
            return getattr(self.fs, method)(self._path(key), *args)
        except FileNotFoundError as error:
            raise MediaMissing(key) from error
        except Exception as error:  # each backend raises its own (botocore, aiohttp, google-auth...)
            raise StorageUnavailable(f"{type(error).__name__}: {error}") from error

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call("pipe_file", key, data)

    def get(self, key: str) -> bytes:
        return bytes(self._call("cat_file", key))

    def open(self, key: str) -> IO[bytes]:
        return self._call("open", key, "rb")

    def delete(self, key: str) -> None:
        with contextlib.suppress(MediaMissing):
            self._call("rm_file", key)

    def exists(self, key: str) -> bool:
        return bool(self._call("exists", key))


class NoStorage:
    """No place to keep uploads (no instance folder, no MEDIA_STORAGE_URL): every call refuses."""

    def _refuse(self, *_args: Any) -> Any:
        raise StorageUnavailable("no media storage: set MEDIA_STORAGE_URL (or ENGAGEMENT_INSTANCE_DIR)")

    put = get = open = delete = exists = _refuse


def open_storage(url: str | None) -> Storage:
    """The storage ``url`` names (the setting ``MEDIA_STORAGE_URL``, validated by engagement.config)."""
    if url is None:
        return NoStorage()
    if url.startswith("file://"):
        return LocalStorage(Path(urlsplit(url).path))
    return BucketStorage(url)


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path``, never half-written: readers see the old file, no file, or the whole new one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
