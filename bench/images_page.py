"""The home page's weight on a phone (issue #10: with 12 images, under 500 KB on first load at 400 px).

A throwaway deployment (SQLite, the demo data: 8 events and 4 committees with their covers) under gunicorn;
Debian's Chromium, through Playwright, opens ``/`` at a 400x800 viewport, device scale factor 1, empty cache.
Every byte received is counted from Chrome's own network log (``Network.loadingFinished``'s
``encodedDataLength``: headers and body as they came over the wire), by resource type. Two visits, each in a
fresh context: ``first_load`` waits for the network to go idle without scrolling (the lazy images far below
the fold are not fetched), ``all_images`` then scrolls to the end and waits until every image has loaded (the
worst case: all 12 covers fetched). Prints one JSON document.

    python bench/images_page.py [--json out.json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ROOT, create_tables, deployment_env, emit, machine
from loadgen import gunicorn

sys.path.insert(0, str(ROOT))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 400, "height": 800}
TARGET_KB = 500
ALL_LOADED = "[...document.querySelectorAll('img.media-image')].every(img => img.complete && img.naturalWidth > 0)"


def _load_demo(env: dict[str, str]) -> None:
    from engagement.config import load_settings
    from engagement.core import bootstrap
    from engagement.demo import load
    from engagement.search import service as search

    settings = load_settings(env)
    create_tables(settings.database_url)
    core = bootstrap(settings)
    try:
        load(core.sessions, ROOT / "workflows")
    finally:
        core.engine.dispose()
        search.configure(None)


def _visit(browser: Any, base: str, scroll: bool) -> dict[str, Any]:
    """One visit of the home page in a fresh context (empty cache); what came over the network, by type."""
    context = browser.new_context(base_url=base, viewport=VIEWPORT, device_scale_factor=1, locale="fr-FR")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    kinds: dict[str, tuple[str, str]] = {}
    received: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda e: e["response"]["url"].startswith("http") and kinds.__setitem__(
        e["requestId"], (e["type"], e["response"]["mimeType"])))  # data: URIs (the placeholders) are in the HTML
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    started = time.perf_counter()
    page.goto("/", wait_until="networkidle")
    if scroll:
        for _ in range(40):  # step down as a reader would, so each lazy image comes into view
            page.mouse.wheel(0, 400)
            page.wait_for_timeout(50)
        page.wait_for_function(ALL_LOADED, timeout=30_000)
        page.wait_for_load_state("networkidle")
    elapsed = time.perf_counter() - started
    on_page = page.eval_on_selector_all("img.media-image", "imgs => imgs.length")
    loaded = page.eval_on_selector_all("img.media-image",
                                       "imgs => imgs.filter(i => i.complete && i.naturalWidth).length")
    context.close()
    over_http = {r: size for r, size in received.items() if r in kinds}
    by_type: dict[str, int] = {}
    for request_id, size in over_http.items():
        by_type[kinds[request_id][0]] = by_type.get(kinds[request_id][0], 0) + size
    images = sorted(size for r, size in over_http.items() if kinds[r][0] == "Image")
    total = sum(over_http.values())
    return {"bytes_total": total, "kb_total": round(total / 1000, 1), "bytes_by_type": by_type,
            "images_on_page": on_page, "images_loaded": loaded, "images_requested": len(images),
            "image_types": sorted({kinds[r][1] for r in over_http if kinds[r][0] == "Image"}),
            "image_bytes": images, "requests": len(over_http), "wall_s": round(elapsed, 2),
            "target_met": total < TARGET_KB * 1000}


def measure() -> dict[str, Any]:
    """Serve the demo under gunicorn and weigh the home page twice (first load, all images); the results."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-images-page-") as root:
        env = deployment_env(Path(root), ROOT / "workflows")
        _load_demo(env)
        with gunicorn("web.wsgi:app", env, Path(root) / "server.log") as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                first = _visit(browser, server.base, scroll=False)
                everything = _visit(browser, server.base, scroll=True)
            finally:
                browser.close()
    return {"benchmark": "images_page", "viewport": VIEWPORT, "device_scale_factor": 1, "target_kb": TARGET_KB,
            "first_load": first, "all_images": everything,
            "target_met": first["target_met"] and everything["target_met"] and everything["images_loaded"] >= 12}


def main(argv: list[str]) -> dict[str, Any]:
    result = {**measure(), "machine": machine()}
    print(json.dumps(result, indent=2))
    emit(result, argv)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
