"""Uploads stored once per content, deleted after commit; the storage settings."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engagement.config import ConfigError, load_settings
from engagement.core import Core
from engagement.db import transaction
from engagement.media import service
from engagement.media.models import KEY_PATTERN, Media
from engagement.media.presets import PRESETS
from engagement.media.storage import LocalStorage, NoStorage, StorageUnavailable
from engagement.pages.models import ContentPage
from tests.media_data import photo

BASE = {"ENGAGEMENT_ENV": "test", "SECRET_KEY": "s", "DATABASE_URL": "sqlite://"}


def test_an_upload_is_stored_reencoded_with_its_row(core: Core, tmp_path: Path) -> None:
    data = photo(640, 480)
    with transaction(core.sessions) as session:
        media = service.upload(session, data, filename="../../etc/Vacances été.JPG", uploaded_by_id=None, alt="Plage")
    stored = (tmp_path / "media" / media.key).read_bytes()
    assert media.key.endswith(".jpg") and re.fullmatch(KEY_PATTERN, media.key)
    assert media.key == f"{media.sha256[:2]}/{media.sha256}.jpg"
    assert (media.width, media.height, media.content_type) == (640, 480, "image/jpeg")
    assert media.byte_size == len(stored) and stored != data
    assert hashlib.sha256(stored).hexdigest() == media.sha256
    assert media.original_name == "Vacances été.JPG" and media.alt == "Plage"
    assert media.placeholder.startswith("data:image/jpeg;base64,") and len(media.placeholder) < 1024


def test_the_same_bytes_twice_give_the_same_row(core: Core) -> None:
    data = photo(200, 100, ".png")
    with transaction(core.sessions) as session:
        first = service.upload(session, data, filename="a.png", uploaded_by_id=None)
    with transaction(core.sessions) as session:
        again = service.upload(session, data, filename="b.png", uploaded_by_id=None)
        assert again.id == first.id
        assert session.scalar(select(func.count()).select_from(Media)) == 1


def test_delete_removes_the_file_and_variants_after_commit_only(core: Core, tmp_path: Path) -> None:
    with transaction(core.sessions) as session:
        media = service.upload(session, photo(500, 400), filename="a.jpg", uploaded_by_id=None)
        session.add(ContentPage(slug="agir", title="Agir", cover_media_id=media.id))
    variants = service.library().variants
    variants.get(media.key, PRESETS["card"], "jpg")
    assert variants.path(media.key, PRESETS["card"], "jpg").is_file()
    with pytest.raises(RuntimeError), transaction(core.sessions) as session:
        service.delete(session, session.get(Media, media.id))
        raise RuntimeError("rolled back")
    assert (tmp_path / "media" / media.key).is_file()
    with transaction(core.sessions) as session:
        service.delete(session, session.get(Media, media.id))
        assert (tmp_path / "media" / media.key).is_file()  # not before the commit
    assert not (tmp_path / "media" / media.key).exists()
    assert not variants.folder(media.key).exists()
    with core.sessions() as session:
        page = session.scalars(select(ContentPage)).one()
        assert page.cover_media_id is None and page.cover is None  # ON DELETE SET NULL


def test_an_upload_without_storage_is_refused_clearly(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.library(), "storage", NoStorage())
    with pytest.raises(StorageUnavailable, match="MEDIA_STORAGE_URL"), transaction(core.sessions) as session:
        service.upload(session, photo(50, 50), filename="a.jpg", uploaded_by_id=None)
    with core.sessions() as session:
        assert session.scalars(select(Media)).all() == []


def test_the_storage_defaults_to_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({**BASE, "ENGAGEMENT_INSTANCE_DIR": str(tmp_path)})
    assert settings.media_storage_url == (tmp_path / "media").as_uri()
    assert settings.media_cache_dir == tmp_path / "cache" / "media"
    library = service.configure(settings)
    assert isinstance(library.storage, LocalStorage) and library.storage.root == tmp_path / "media"


def test_without_instance_folder_nor_url_uploads_are_refused_but_the_cache_has_a_place() -> None:
    settings = load_settings({**BASE, "ENGAGEMENT_INSTANCE_DIR": ""})
    assert settings.media_storage_url is None
    assert settings.media_cache_dir.name == "engagement-media"
    assert isinstance(service.configure(settings).storage, NoStorage)


@pytest.mark.parametrize("url, expected", [
    ("s3://bucket/media", "s3://bucket/media"), ("gs://bucket/prefix/", "gs://bucket/prefix"),
    ("/srv/media", "file:///srv/media"), ("file:///srv/media", "file:///srv/media"),
])
def test_storage_urls_are_accepted(url: str, expected: str) -> None:
    settings = load_settings({**BASE, "ENGAGEMENT_INSTANCE_DIR": "", "MEDIA_STORAGE_URL": url})
    assert settings.media_storage_url == expected


@pytest.mark.parametrize("url", ["s3://", "ftp://host/x", "media", "file://relative", "http://bucket/x"])
def test_bad_storage_urls_are_refused_at_start_up(url: str) -> None:
    with pytest.raises(ConfigError, match="MEDIA_STORAGE_URL"):
        load_settings({**BASE, "MEDIA_STORAGE_URL": url})


def test_a_relative_cache_folder_is_refused() -> None:
    with pytest.raises(ConfigError, match="MEDIA_CACHE_DIR"):
        load_settings({**BASE, "MEDIA_CACHE_DIR": "cache"})


def test_the_local_storage_keeps_keys_inside_its_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    storage.put("ab/x.jpg", b"data", "image/jpeg")
    assert storage.get("ab/x.jpg") == b"data" and storage.exists("ab/x.jpg")
    with pytest.raises(LookupError):
        storage.get("../secret_key")
    storage.delete("ab/x.jpg")
    assert not storage.exists("ab/x.jpg")
    assert [p.name for p in (tmp_path / "media" / "ab").iterdir()] == []  # no temporary file left
