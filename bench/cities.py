"""``GET /api/cities`` in process, and what the French commune directory costs a worker in memory.

Time: the real app (``create_app`` on a throwaway SQLite deployment) through Flask's test client,
one request at a time, on a fixed mix of postal codes: communes alone on their code, codes shared by
several communes, Paris/Lyon/Marseille arrondissements, overseas, and unknown codes. Next to it, for
scale, ``GET /healthz`` through the same client and the directory lookup alone.

Memory: a fresh interpreter per measurement (so nothing else is loaded): VmRSS before and after
loading the directory, and, in another fresh interpreter, what tracemalloc sees (retained and peak);
then, as a worker sees it, VmRSS of a process that created the app, around its first /api/cities.

    python bench/cities.py [--quick] [--json out.json]
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import create_tables, deployment_env, emit, median_of_runs, ms, rss_kib, summary

TARGET_MS, TARGET_MIB = 5.0, 30.0
SEED = 20_26
UNKNOWN_SHARE = 0.05  # a visitor still typing, or a typo: well-formed codes no commune carries
FIXED = ["94320", "01400", "20167", "75116", "75001", "13001", "69001", "20000", "20200", "97400", "97110", "97600"]


def postal_code_mix(count: int) -> list[str]:
    """``count`` postal codes, drawn once with a fixed seed: every known code equally likely, 5 % unknown."""
    from engagement.geo.communes import directory

    known = sorted(directory().by_postal_code)
    unknown = [f"{n:05d}" for n in range(99_900, 100_000)]  # 999xx: not a French postal code
    draw = random.Random(SEED)
    mix = [draw.choice(unknown) if draw.random() < UNKNOWN_SHARE else draw.choice(known) for _ in range(count)]
    return FIXED + mix[len(FIXED):]


def deploy(root: Path) -> Any:
    """The real app on a fresh SQLite file (no workflow: /api/cities does not need one)."""
    from engagement.config import load_settings
    from web.app import create_app

    workflows = root / "workflows"
    workflows.mkdir()
    env = deployment_env(root, workflows)
    create_tables(env["DATABASE_URL"])
    app = create_app(load_settings(env))
    app.config["TESTING"] = True
    from web.extensions import limiter

    # One test client sends thousands of look-ups a minute: the per-client limit (JSON_API_LIMIT) is not
    # what this measures, and would answer 429 after the 120th.
    limiter.enabled = False
    return app


def time_requests(client: Any, urls: list[str]) -> list[float]:
    samples = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return samples


def lookup_us(codes: list[str], repeat: int) -> float:
    """Median over ``repeat`` passes of the time of one ``city_options`` call (the view's lookup), in µs."""
    from engagement.geo.postal import city_options

    passes = []
    for _ in range(repeat):
        start = time.perf_counter()
        for code in codes:
            city_options(code)
        passes.append((time.perf_counter() - start) / len(codes))
    return round(statistics.median(passes) * 1e6, 3)


def timing(requests: int, runs: int) -> dict[str, Any]:
    codes = postal_code_mix(requests)
    urls = [f"/api/cities?postal_code={code}" for code in codes]
    with tempfile.TemporaryDirectory(prefix="bench-cities-") as tmp:
        app = deploy(Path(tmp))
        client = app.test_client()
        time_requests(client, urls[:500])  # warm-up: directory loaded, routing and JSON code paths hot
        per_run, health_runs = [], []
        for index in range(runs):
            per_run.append({key: ms(value) for key, value in summary(time_requests(client, urls)).items()})
            health = time_requests(client, ["/healthz"] * (requests // 5))
            health_runs.append({key: ms(value) for key, value in summary(health).items()})
            print(f"run {index + 1}/{runs}: /api/cities {per_run[-1]}  /healthz {health_runs[-1]}", file=sys.stderr)
        app.extensions["engagement"].engine.dispose()
    found = [len(r) for r in map(_cities_of, codes)]
    return {"requests_per_run": requests, "runs": runs, "per_run": per_run, "api_ms": median_of_runs(per_run),
            "healthz_ms": median_of_runs(health_runs), "lookup_us": lookup_us(codes, runs),
            "mix": {"distinct_codes": len(set(codes)), "unknown": found.count(0), "one_commune": found.count(1),
                    "several_communes": sum(1 for n in found if n > 1), "max_communes": max(found)}}


def _cities_of(code: str) -> tuple[Any, ...]:
    from engagement.geo.communes import directory

    return directory().cities(code)


def probe(kind: str) -> dict[str, Any]:
    """Run in a fresh interpreter: what loading the directory costs this process."""
    import engagement.geo.communes as communes

    if kind == "rss":
        gc.collect()
        before = rss_kib()
        start = time.perf_counter()
        loaded = communes.directory()
        load_s = time.perf_counter() - start
        gc.collect()
        return {"rss_before_kib": before, "rss_after_kib": rss_kib(), "load_ms": ms(load_s),
                "communes": len(loaded.by_code), "postal_codes": len(loaded.by_postal_code)}
    if kind == "worker":
        with tempfile.TemporaryDirectory(prefix="bench-cities-worker-") as tmp:
            client = deploy(Path(tmp)).test_client()
            client.get("/healthz")
            gc.collect()
            before = rss_kib()
            client.get("/api/cities?postal_code=94320")  # the first look-up loads the directory
            gc.collect()
            return {"rss_before_kib": before, "rss_after_kib": rss_kib()}
    import tracemalloc

    tracemalloc.start()
    loaded = communes.directory()
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"traced_retained_bytes": current, "traced_peak_bytes": peak, "communes": len(loaded.by_code)}


def fresh_probe(kind: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--probe", kind], capture_output=True, text=True,
                          check=True, timeout=120)
    return json.loads(done.stdout)


def memory(runs: int) -> dict[str, Any]:
    from engagement.geo.communes import DATA

    rss = [fresh_probe("rss") for _ in range(runs)]
    traced = [fresh_probe("tracemalloc") for _ in range(runs)]
    workers = [fresh_probe("worker") for _ in range(runs)]
    delta = statistics.median(r["rss_after_kib"] - r["rss_before_kib"] for r in rss)
    in_worker = statistics.median(w["rss_after_kib"] - w["rss_before_kib"] for w in workers)
    return {"runs": runs, "rss_before_kib": statistics.median(r["rss_before_kib"] for r in rss),
            "rss_after_kib": statistics.median(r["rss_after_kib"] for r in rss), "rss_delta_kib": delta,
            "rss_delta_mib": round(delta / 1024, 1), "load_ms": statistics.median(r["load_ms"] for r in rss),
            "traced_retained_mib": round(statistics.median(t["traced_retained_bytes"] for t in traced) / 2**20, 1),
            "traced_peak_mib": round(statistics.median(t["traced_peak_bytes"] for t in traced) / 2**20, 1),
            "worker_rss_before_kib": statistics.median(w["rss_before_kib"] for w in workers),
            "worker_rss_delta_mib": round(in_worker / 1024, 1),
            "communes": rss[0]["communes"], "postal_codes": rss[0]["postal_codes"],
            "data_file_kib": round(DATA.stat().st_size / 1024)}


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    requests, runs = (500, 2) if quick else (5000, 5)
    result: dict[str, Any] = {"timing": timing(requests, runs), "memory": memory(2 if quick else 5)}
    result["target_ms"], result["target_mib"] = TARGET_MS, TARGET_MIB
    result["target_ms_met"] = result["timing"]["api_ms"]["median"] < TARGET_MS
    result["target_mib_met"] = result["memory"]["rss_delta_mib"] < TARGET_MIB
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    timing, memory = result["timing"], result["memory"]
    api, health, mix = timing["api_ms"], timing["healthz_ms"], timing["mix"]
    print(f"/api/cities in process (Flask test client), {timing['requests_per_run']} requests x {timing['runs']} "
          f"runs, median of runs; mix: {mix['distinct_codes']} distinct codes, {mix['one_commune']} with one commune, "
          f"{mix['several_communes']} with several (up to {mix['max_communes']}), {mix['unknown']} unknown")
    print(f"  median {api['median']:.3f} ms  p90 {api['p90']:.3f} ms  p99 {api['p99']:.3f} ms  "
          f"(target < {TARGET_MS:.0f} ms: {'met' if result['target_ms_met'] else 'MISSED'})")
    print(f"  for scale: /healthz median {health['median']:.3f} ms through the same client; "
          f"the directory lookup alone {timing['lookup_us']:.2f} µs")
    print(f"memory: {memory['communes']} communes, {memory['postal_codes']} postal codes "
          f"(file {memory['data_file_kib']} KiB gzipped), fresh interpreter, median of {memory['runs']}")
    print(f"  RSS {memory['rss_before_kib']:.0f} -> {memory['rss_after_kib']:.0f} KiB: +{memory['rss_delta_mib']} MiB "
          f"(target < {TARGET_MIB:.0f} MiB: {'met' if result['target_mib_met'] else 'MISSED'}); "
          f"loaded in {memory['load_ms']:.0f} ms")
    print(f"  tracemalloc: {memory['traced_retained_mib']} MiB retained, {memory['traced_peak_mib']} MiB at the peak")
    print(f"  in an app process (create_app, then the first /api/cities): "
          f"RSS {memory['worker_rss_before_kib']:.0f} KiB +{memory['worker_rss_delta_mib']} MiB")


if __name__ == "__main__":
    if "--probe" in sys.argv:
        print(json.dumps(probe(sys.argv[sys.argv.index("--probe") + 1])))
    else:
        emit(main(sys.argv[1:]), sys.argv[1:])
