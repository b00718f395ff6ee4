"""The bucket storage (fsspec + s3fs) against a loopback S3: moto's server, on a free port."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from engagement.db import transaction
from engagement.media import service, urls
from engagement.media.storage import BucketStorage, MediaMissing, StorageUnavailable
from engagement.media.variants import VariantCache
from tests.media_data import photo

moto_server = pytest.importorskip("moto.server", reason="moto[server] (the dev extra) runs the loopback S3")
pytest.importorskip("s3fs", reason="s3fs (the s3 extra) is the bucket storage's S3 driver")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A moto S3 server on loopback, and the s3fs options that reach it."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {"key": "testing", "secret": "testing", "skip_instance_cache": True,
               "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1},
               "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "eu-west-3"}}
    bucket = f"engagement-media-{uuid.uuid4().hex[:8]}"  # moto keeps its buckets for the whole process
    storage = BucketStorage(f"s3://{bucket}/prod", **options)
    storage.fs.mkdir(bucket)
    try:
        yield {"server": server, "options": options, "url": f"s3://{bucket}/prod", "bucket": bucket}
    finally:
        server.stop()


def test_put_get_exists_delete_in_a_bucket(s3: dict[str, Any]) -> None:
    storage = BucketStorage(s3["url"], **s3["options"])
    storage.put("ab/one.jpg", b"bytes of an image", "image/jpeg")
    assert storage.exists("ab/one.jpg")
    assert storage.get("ab/one.jpg") == b"bytes of an image"
    with storage.open("ab/one.jpg") as stream:
        assert stream.read(5) == b"bytes"
    assert storage.fs.ls(f"{s3['bucket']}/prod/ab") == [f"{s3['bucket']}/prod/ab/one.jpg"]
    storage.delete("ab/one.jpg")
    assert not storage.exists("ab/one.jpg")
    with pytest.raises(MediaMissing):
        storage.get("ab/one.jpg")
    storage.delete("ab/one.jpg")  # deleting twice is not an error


def test_uploads_and_variants_through_the_bucket_then_an_outage(s3: dict[str, Any], app: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    storage = BucketStorage(s3["url"], **s3["options"])
    library = service.library()
    monkeypatch.setattr(library, "storage", storage)
    monkeypatch.setattr(library.variants, "storage", storage)
    assert isinstance(app.extensions["media_app"].extensions["media"], VariantCache)
    with transaction(app.extensions["engagement"].sessions) as session:
        media = service.upload(session, photo(900, 600), filename="a.jpg", uploaded_by_id=None)
    assert storage.fs.exists(f"{s3['bucket']}/prod/{media.key}")
    web = app.test_client()
    card = web.get(urls.variant_url(media.key, "card"))
    assert card.status_code == 200 and card.mimetype == "image/jpeg"

    s3["server"].stop()
    with pytest.raises(StorageUnavailable):
        storage.get(media.key)
    assert web.get(urls.variant_url(media.key, "card")).data == card.data  # cached: no storage needed
    down = web.get(urls.variant_url(media.key, "thumbnail"))
    assert down.status_code == 503 and b"Traceback" not in down.data
