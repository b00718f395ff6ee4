"""Run every benchmark, each in its own process, and print one summary (``make bench``).

    python bench/run_all.py [--quick] [--json results.json]

``--quick`` shortens every run (a smoke test of the scripts; its numbers are not the reported ones).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import emit, machine

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("engine", "wizard_load", "wizard_peers", "check_large", "cities", "mail_ledger", "audience_lists")


def run(name: str, quick: bool, work: Path) -> dict[str, Any]:
    """One benchmark script in a fresh interpreter (so RSS and caches are its own)."""
    out = work / f"{name}.json"
    command = [sys.executable, str(HERE / f"{name}.py"), "--json", str(out), *(["--quick"] if quick else [])]
    start = time.monotonic()
    subprocess.run(command, check=True, timeout=1800)
    result = json.loads(out.read_text())
    result["wall_s"] = round(time.monotonic() - start, 1)
    return result


def summary_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    engine, wizard, check, cities = (results["engine"], results["wizard_load"], results["check_large"],
                                     results["cities"])
    timing, memory = engine["timing_ms"], engine["memory"]
    hello, wiz = wizard["summary"]["hello"], wizard["summary"]["wizard"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return [
        f"engine transition (load+submit+commit)  median {timing['median']:.3f} ms, p90 {timing['p90']:.3f}, "
        f"p99 {timing['p99']:.3f}  target < 2 ms: {verdict(engine['target_met'])}",
        f"engine memory  {memory['live_instances']} live, fired on {memory['fired_on_for_rss']}: RSS "
        f"{memory['rss_before_kib']} -> {memory['rss_after_kib']} KiB; machine.models={memory['machine_models']}, "
        f"compiled machines={memory['compiled_machines']}",
        f"hello world  {hello['requests_per_s']:.0f} req/s, p50 {hello['p50_ms']:.2f} ms, p99 {hello['p99_ms']:.2f} ms",
        f"wizard POST  {wiz['requests_per_s']:.0f} req/s, p50 {wiz['p50_ms']:.2f} ms, p99 {wiz['p99_ms']:.2f} ms, "
        f"errors {wiz['errors_total']}",
        f"wizard/hello  {wizard['ratio']:.1%}  target >= 25%: {verdict(wizard['ratio_met'])};  "
        f"wizard p99 < 50 ms: {verdict(wizard['p99_met'])}",
        *peer_lines(results["wizard_peers"], verdict),
        f"workflows check (200 states, CLI)  {check['cli_s'] * 1000:.0f} ms  target < 1 s: "
        f"{verdict(check['target_met'])};  check_text in process {check['check_text_ms']:.0f} ms",
        f"/api/cities in process  median {cities['timing']['api_ms']['median']:.3f} ms, "
        f"p99 {cities['timing']['api_ms']['p99']:.3f}  target < 5 ms: {verdict(cities['target_ms_met'])};  "
        f"commune directory +{cities['memory']['rss_delta_mib']} MiB RSS a worker  target < 30 MiB: "
        f"{verdict(cities['target_mib_met'])}",
        f"mail ledger to the fake Mailjet  {results['mail_ledger']['median']['ledger_messages_per_s']:.0f} msg/s "
        f"(client alone {results['mail_ledger']['median']['client_alone_messages_per_s']:.0f} msg/s)",
        *audience_lines(results["audience_lists"], verdict),
    ]


def peer_lines(peers: dict[str, Any], verdict: Any) -> list[str]:
    ratios, ours, peer = peers["ratios"], peers["summary"]["ours"], peers["summary"]["peer"]

    def spread(name: str, scale: float = 1.0, unit: str = "", digits: int = 2) -> str:
        r = ratios[name]
        return f"{r['median'] * scale:.{digits}f}{unit} ({r['min'] * scale:.{digits}f}-{r['max'] * scale:.{digits}f})"

    def app(figures: dict[str, Any]) -> str:
        return (f"{figures['requests_per_s']['median']:.0f} req/s, p99 {figures['p99_ms']['median']:.2f} ms, "
                f"{figures['server_cpu_ms_per_request']['median']:.2f} ms server CPU")

    return [
        f"django-formtools step (peer)  {app(peer)};  ours beside it {app(ours)}",
        f"ours/peer server CPU a step  {spread('cpu_ours_over_peer')}  target <= 1: "
        f"{verdict(ratios['cpu_ours_over_peer']['median'] <= 1)};  throughput ours/peer "
        f"{spread('throughput_ours_over_peer')};  ours/hello {spread('throughput_ours_over_hello', 100, ' %', 1)}",
    ]


def audience_lines(lists: dict[str, Any], verdict: Any) -> list[str]:
    return [f"audience list build ({label}, {lists[db]['members']:,} members)  department "
            f"{lists[db]['department']['median_s']:.3f} s, committee {lists[db]['committee']['median_s']:.3f} s  "
            f"target < 5 s: {verdict(max(lists[db][n]['median_s'] for n in ('department', 'committee')) < 5)}"
            for db, label in (("sqlite", "SQLite"), ("mysql", "MariaDB")) if db in lists]


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        results = {name: run(name, quick, Path(tmp)) for name in BENCHMARKS}
    print("\n== summary ==")
    print(f"{info['date']}; {info['nproc']} CPUs ({info['cpu']}), {info['ram_gib']} GiB RAM, "
          f"Python {info['python']}, SQLite {info['sqlite']}, {info['wrk']}{' [QUICK]' if quick else ''}")
    for line in summary_lines(results):
        print("  " + line)
    return {"machine": info, "quick": quick, "results": results}


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv[1:])
