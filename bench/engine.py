"""The engine alone on SQLite: time of one fired transition, and memory with 100,000 live instances.

One timed transition is the whole unit of work a request does around the engine: open the
transaction (BEGIN IMMEDIATE), load the instance, ``runtime.submit`` (fire, log row), commit.
A run fires round-robin over 200 instances (10 steps each, like people walking a wizard), so
that no single instance's JSON ``history`` grows to thousands of entries.

    python bench/engine.py [--quick] [--json out.json]
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from harness import create_tables, deployment_env, emit, median_of_runs, ms, rss_kib, summary

WORKFLOW = """\
id: bench_pingpong
version: 1
title: Bench ping-pong
initial: ping
states:
  ping:
    title: Ping
    fields: [{name: ping_note, type: text, label: Note}]
  pong:
    title: Pong
    fields: [{name: pong_note, type: text, label: Note}]
  done: {final: true, title: Fin}
transitions:
  - {trigger: next, source: ping, dest: pong}
  - {trigger: next, source: pong, dest: ping}
  - {trigger: finish, source: [ping, pong], dest: done}
"""
TARGET_MS = 2.0


def deploy(root: Path) -> Any:
    """A fresh SQLite deployment with the ping-pong workflow published; returns the Core."""
    from engagement.config import load_settings
    from engagement.core import bootstrap
    from engagement.db import transaction
    from engagement.workflow import definitions

    workflows = root / "workflows"
    workflows.mkdir()
    (workflows / "bench_pingpong.yml").write_text(WORKFLOW)
    settings = load_settings(deployment_env(root, workflows))
    create_tables(settings.database_url)
    core = bootstrap(settings)
    with transaction(core.sessions) as session:
        published, diagnostics = definitions.load_files(session, definitions.workflow_files(workflows))
    assert published and not diagnostics, diagnostics
    return core


def start_instance(core: Any) -> int:
    from engagement.db import transaction, utcnow
    from engagement.workflow import definitions, runtime

    with transaction(core.sessions) as session:
        flow = definitions.active(session, "bench_pingpong")
        instance = runtime.start(session, flow, actor=None, now=utcnow(), locale="fr")
    return instance.id


def fire(core: Any, instance_id: int) -> tuple[float, float, float]:
    """One transition as a request does it; returns (load, submit, commit) seconds."""
    from engagement.db import transaction, utcnow
    from engagement.workflow import definitions, runtime
    from engagement.workflow.models import WorkflowInstance

    t0 = time.perf_counter()
    with transaction(core.sessions) as session:
        instance = session.get(WorkflowInstance, instance_id)
        flow = definitions.of_instance(session, instance)
        t1 = time.perf_counter()
        runtime.submit(session, flow, instance, trigger="next", answers={f"{instance.state}_note": "hello"},
                       step=instance.lock_version,
                       actor=None, now=utcnow(), locale="fr")
        t2 = time.perf_counter()
    t3 = time.perf_counter()  # leaving the block flushed the UPDATE and INSERT, then committed
    return t1 - t0, t2 - t1, t3 - t2


def timing_run(core: Any, transitions: int, walkers: int = 200) -> dict[str, float]:
    ids = [start_instance(core) for _ in range(walkers)]
    for instance_id in ids[:50]:  # warm-up: compiled machine, statement caches, page cache
        fire(core, instance_id)
    samples = [fire(core, ids[index % walkers]) for index in range(transitions)]
    totals = [sum(s) for s in samples]
    result = {key: ms(value) for key, value in summary(totals).items()}
    for index, part in enumerate(("load", "submit", "commit")):
        result[f"{part}_median"] = ms(statistics.median(s[index] for s in samples))
    return result


def bulk_insert(core: Any, count: int) -> list[int]:
    """``count`` live instances in ``ping``, inserted in batches (their creation is not timed)."""
    from sqlalchemy import insert, select

    from engagement.db import transaction, utcnow
    from engagement.workflow.models import WorkflowInstance

    now = utcnow()
    row = {"workflow_id": "bench_pingpong", "version": 1, "state": "ping", "data": {}, "history": [],
           "is_completed": False, "started_at": now, "updated_at": now, "entered_at": now, "lock_version": 1}
    for offset in range(0, count, 10_000):
        with transaction(core.sessions) as session:
            session.execute(insert(WorkflowInstance), [row] * min(10_000, count - offset))
    with core.sessions() as session:
        return list(session.scalars(select(WorkflowInstance.id).order_by(WorkflowInstance.id)))


def live_objects(cls: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, cls))


def traced_retention(core: Any, ids: list[int]) -> tuple[int, int]:
    """Bytes still allocated after firing on ``ids``: in all, and allocated from engine code.

    "Engine code" is any allocation with a frame in ``engagement/workflow/`` or ``transitions``
    on its stack; the rest is SQLAlchemy's pool and sqlite3's cursor bookkeeping.
    """
    gc.collect()
    tracemalloc.start(30)
    before = tracemalloc.take_snapshot()
    for instance_id in ids:
        fire(core, instance_id)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    total = sum(d.size_diff for d in after.compare_to(before, "filename"))
    engine = [tracemalloc.Filter(True, f"*{part}*", all_frames=True)
              for part in ("/engagement/workflow/", "/site-packages/transitions/")]
    ours = after.filter_traces(engine).compare_to(before.filter_traces(engine), "filename")
    return total, sum(d.size_diff for d in ours)


def memory_run(core: Any, instances: int, sample: int) -> dict[str, Any]:
    """RSS around firing on ``sample`` distinct instances out of ``instances`` live ones."""
    from engagement.workflow import definitions, machine
    from engagement.workflow.models import WorkflowInstance

    gc.collect()
    rss_start = rss_kib()
    ids = bulk_insert(core, instances)
    step = max(1, len(ids) // (2 * sample))
    firing, traced = ids[::step][:sample], ids[1::step][:sample]
    gc.collect()
    rss_before = rss_kib()
    for instance_id in firing:
        fire(core, instance_id)
    gc.collect()
    rss_after = rss_kib()
    retained, retained_by_engine = traced_retention(core, traced)
    flow = next(iter(machine._CACHE.values()))
    return {
        "bulk_inserted": instances, "live_instances": len(ids), "fired_on": len(firing) + len(traced),
        "fired_on_for_rss": len(firing), "fired_on_traced": len(traced), "rss_before_insert_kib": rss_start,
        "rss_before_kib": rss_before, "rss_after_kib": rss_after, "rss_delta_kib": rss_after - rss_before,
        "traced_retained_bytes": retained, "traced_retained_by_engine_bytes": retained_by_engine,
        "machine_models": len(flow.machine.models),
        "compiled_machines": len(machine._CACHE), "compiled_by_definition": len(definitions._COMPILED),
        "instances_alive_in_process": live_objects(WorkflowInstance),
    }


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    transitions, runs = (300, 2) if quick else (2000, 5)
    instances, sample = (10_000, 200) if quick else (100_000, 1000)
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        core = deploy(Path(tmp))
        per_run = []
        for index in range(runs):
            per_run.append(timing_run(core, transitions))
            print(f"run {index + 1}/{runs}: {per_run[-1]}", file=sys.stderr)
        memory = memory_run(core, instances, sample)
        core.engine.dispose()
    timing = median_of_runs(per_run)
    result = {"transitions_per_run": transitions, "runs": runs, "per_run": per_run, "timing_ms": timing,
              "target_ms": TARGET_MS, "target_met": timing["median"] < TARGET_MS, "memory": memory}
    report(result)
    return result


def report(result: dict[str, Any]) -> None:
    timing, memory = result["timing_ms"], result["memory"]
    print(f"engine: one transition (load + submit + commit), {result['transitions_per_run']} x "
          f"{result['runs']} runs, median of runs")
    print(f"  median {timing['median']:.3f} ms  p90 {timing['p90']:.3f} ms  p99 {timing['p99']:.3f} ms  "
          f"(target < {TARGET_MS} ms: {'met' if result['target_met'] else 'MISSED'})")
    print(f"  parts (medians): load {timing['load_median']:.3f}  submit {timing['submit_median']:.3f}  "
          f"flush+commit {timing['commit_median']:.3f} ms")
    print(f"memory: {memory['live_instances']} live instances ({memory['bulk_inserted']} bulk-inserted), "
          f"fired once on {memory['fired_on_for_rss']} + {memory['fired_on_traced']} (traced) distinct ones")
    print(f"  RSS {memory['rss_before_insert_kib']} KiB before the bulk insert; around the firings "
          f"{memory['rss_before_kib']} -> {memory['rss_after_kib']} KiB (delta {memory['rss_delta_kib']} KiB);"
          f" traced allocations retained {memory['traced_retained_bytes']} B"
          f" ({memory['traced_retained_by_engine_bytes']} B from engine code)")
    print(f"  machine.models = {memory['machine_models']}, compiled machines cached = {memory['compiled_machines']}, "
          f"WorkflowInstance objects alive = {memory['instances_alive_in_process']}")


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv[1:])
