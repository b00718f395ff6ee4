"""Images (issue #10): a 3000x2000 photograph to the 400 px card (progressive JPEG q70) in under 60 ms median,
and a cached variant served by 2 gunicorn workers at over 1,000 requests/s (Flask's hello world beside it).

(a) in process: ``engagement.media.images.render`` (libvips through pyvips: shrink-on-load, crop, encode) of a
3000x2000 JPEG q90 that compresses like a photograph (smooth gradients, sines and mild noise), median of the runs;
(b) the real application under gunicorn (2 sync workers), one uploaded image whose card variant is already
cached, under wrk (2 threads, 32 connections), 3 runs of 10 s, median requests/s; then hello world the same way;
(c) if bench/images_page.py defines ``measure() -> dict``, its result under "home_page".

    python bench/images.py [--runs 21] [--seconds 10] [--load-runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import ROOT, create_tables, deployment_env, emit, machine, ms
from loadgen import gunicorn, run_wrk

sys.path.insert(0, str(ROOT))

TARGET_RESIZE_MS = 60.0
TARGET_REQUESTS_PER_S = 1000.0


def photograph(width: int = 3000, height: int = 2000) -> bytes:
    """A JPEG q90 with a photograph's texture: gradients, soft waves, a vignette and sensor-like noise."""
    from engagement.media.images import vips

    pyvips = vips()
    xyz = pyvips.Image.xyz(width, height)
    x, y = xyz[0], xyz[1]
    sky = x * (180 / width) + y * (60 / height)
    waves = ((x / 97).sin() + (y / 61).cos()) * 18  # sin/cos of libvips take degrees
    zone = pyvips.Image.zone(width, height) * 25
    red = sky + waves + 40
    green = y * (150 / height) + zone + 50
    blue = (x + y) * (120 / (width + height)) - waves + 60
    noise = pyvips.Image.gaussnoise(width, height, sigma=4)
    image = (red.bandjoin([green, blue]) + noise).cast("uchar").copy(interpretation="srgb")
    return bytes(image.jpegsave_buffer(Q=90))


def resize_runs(data: bytes, runs: int) -> dict[str, Any]:
    from engagement.media import images
    from engagement.media.presets import PRESETS

    images.render(data, PRESETS["card"], "jpg")  # first call: libvips' own start-up, not measured
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        out = images.render(data, PRESETS["card"], "jpg")
        times.append(time.perf_counter() - start)
        size = len(out)
    progressive = b"\xff\xc2" in out
    return {"runs": runs, "median_ms": ms(statistics.median(times)), "min_ms": ms(min(times)),
            "max_ms": ms(max(times)), "output_bytes": size, "progressive": progressive,
            "target_ms": TARGET_RESIZE_MS, "met": statistics.median(times) * 1000 < TARGET_RESIZE_MS}


def _upload(env: dict[str, str], data: bytes) -> str:
    from engagement.config import load_settings
    from engagement.core import bootstrap
    from engagement.db import transaction
    from engagement.media import service

    core = bootstrap(load_settings(env))
    with transaction(core.sessions) as session:
        key = service.upload(session, data, filename="photo.jpg", uploaded_by_id=None).key
    core.engine.dispose()
    return key


def load_runs(server: Any, url: str, runs: int, seconds: int) -> dict[str, Any]:
    results = [run_wrk(server, url, threads=2, connections=32, seconds=seconds) for _ in range(runs)]
    rates = [r.requests_per_s for r in results]
    return {"runs_requests_per_s": rates, "requests_per_s": statistics.median(rates),
            "p50_ms": statistics.median(r.latency_ms["p50"] for r in results),
            "p99_ms": statistics.median(r.latency_ms["p99"] for r in results),
            "non_2xx_3xx": sum(r.non_2xx_3xx for r in results), "socket_errors": sum(r.socket_errors for r in results),
            "server_cpu_ms_per_request": statistics.median(r.server_cpu_ms_per_request for r in results)}


def serve_cached(data: bytes, runs: int, seconds: int) -> dict[str, Any]:
    from engagement.media.urls import variant_url

    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        root = Path(folder)
        env = deployment_env(root, ROOT / "workflows")
        create_tables(env["DATABASE_URL"])
        key = _upload(env, data)
        path = variant_url(key, "card")
        with gunicorn("web.wsgi:app", env, root / "web.log", 2, ready_path="/healthz") as server:
            with urllib.request.urlopen(server.base + path, timeout=30) as response:  # renders and caches it
                variant_bytes = len(response.read())
            media = load_runs(server, server.base + path, runs, seconds)
        with gunicorn("bench.hello:app", {}, root / "hello.log", 2) as hello:
            baseline = load_runs(hello, hello.base + "/", runs, seconds)
    media.update(variant="card (400x225 JPEG q70)", variant_bytes=variant_bytes, target=TARGET_REQUESTS_PER_S,
                 met=media["requests_per_s"] > TARGET_REQUESTS_PER_S)
    return {"cached_variant": media, "hello": baseline,
            "ratio_to_hello": round(media["requests_per_s"] / baseline["requests_per_s"], 3)}


def home_page() -> dict[str, Any] | None:
    """helper B's measure of the home page (bench/images_page.py), when it exists."""
    path = ROOT / "bench" / "images_page.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("images_page", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    measure = getattr(module, "measure", None)
    return measure() if callable(measure) else None


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--load-runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    import pyvips

    data = photograph()
    result: dict[str, Any] = {
        "machine": machine(),
        "library": {"pyvips": pyvips.__version__,
                    "libvips": ".".join(str(pyvips.version(i)) for i in range(3))},
        "source": {"width": 3000, "height": 2000, "format": "JPEG q90", "megabytes": round(len(data) / 1e6, 2)},
        "resize_to_card": resize_runs(data, args.runs),
    }
    result.update(serve_cached(data, args.load_runs, args.seconds))
    if (page := home_page()) is not None:
        result["home_page"] = page
    print(json.dumps(result, indent=2))
    emit(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
