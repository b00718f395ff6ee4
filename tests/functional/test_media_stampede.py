"""Single-flight: 500 simultaneous requests for a cold variant resize it once (threads and processes)."""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from engagement.config import Settings
from engagement.core import bootstrap
from engagement.db import transaction
from engagement.media import images, service, urls
from engagement.media.presets import PRESETS
from engagement.media.storage import LocalStorage
from engagement.media.variants import VariantCache
from tests.media_data import photo

RENDERED = "media variant rendered:"


def _fetch(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "image/webp,*/*"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def test_500_requests_for_a_cold_variant_on_2_gunicorn_workers_resize_it_once(
        live_server: str, settings: Settings, env: dict[str, str]) -> None:
    core = bootstrap(settings)
    with transaction(core.sessions) as session:
        media = service.upload(session, photo(3000, 2000), filename="foule.jpg", uploaded_by_id=None)
    core.engine.dispose()
    url = live_server + urls.variant_url(media.key, "hero")
    start = threading.Barrier(100)

    def five(_: int) -> list[tuple[int, bytes]]:
        start.wait()  # the 100 threads fire together
        return [_fetch(url) for _ in range(5)]

    with ThreadPoolExecutor(100) as pool:
        results = [result for batch in pool.map(five, range(100)) for result in batch]

    assert len(results) == 500
    assert Counter(status for status, _ in results) == {200: 500}
    assert len({body for _, body in results}) == 1
    assert results[0][1][8:12] == b"WEBP"
    log = (Path(env["ENGAGEMENT_INSTANCE_DIR"]) / "server.log").read_text()
    assert log.count(RENDERED) == 1, log[-3000:]
    assert f"{RENDERED} {media.key} hero.webp" in log


def test_threads_of_one_process_wait_for_one_resize(tmp_path: Path, monkeypatch: Any) -> None:
    storage = LocalStorage(tmp_path / "media")
    key = "ab/" + "ab" * 32 + ".jpg"
    storage.put(key, photo(2000, 1500), "image/jpeg")
    cache = VariantCache(tmp_path / "cache", storage)
    calls: list[int] = []
    render = images.render

    def counted(*args: Any) -> bytes:
        calls.append(1)
        return render(*args)

    monkeypatch.setattr(images, "render", counted)
    start = threading.Barrier(50)

    def get(_: int) -> bytes:
        start.wait()
        return cache.get(key, PRESETS["card_2x"], "jpg")

    with ThreadPoolExecutor(50) as pool:
        bodies = list(pool.map(get, range(50)))
    assert len(calls) == 1
    assert len(set(bodies)) == 1 and bodies[0][:3] == b"\xff\xd8\xff"
    leftovers = [p.name for p in cache.folder(key).iterdir()]
    assert sorted(leftovers) == ["card_2x.jpg", "card_2x.jpg.lock"]  # no temporary file left behind
