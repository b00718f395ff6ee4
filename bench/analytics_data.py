"""Generate the analytics benchmark's history on MariaDB: 1,000,000 instances, 5,000,000 transitions.

One workflow, ``bench_funnel`` (welcome -> identity -> address -> topics -> agreement -> review -> done,
every step with an ``sla``), versions 1 and 2 (2 active). The rows are made by the server itself
(``INSERT ... SELECT`` over MariaDB's sequence tables ``seq_1_to_N``), 100,000 instances per
statement; nothing goes through the ORM. Every figure follows from the instance id, so two runs
generate the same history:

- ``h = id * 2654435761 mod 100`` sets how far an instance went: 55 % complete (6 transitions),
  the others stop after 5, 4, 3, 2, 1 or 0 steps; a third of those stopping are abandoned;
- instances start one after the other over the 365 days before 2026-11-20 (ids grow with time);
- each step takes ``5 + (id * 31 + step * 17) mod 600`` seconds (its ``duration_ms``);
- one instance in ten came through an invitation (``{"invited_by": id}`` in its answers);
- then Back-and-forth pairs (review -> agreement -> review ...) on the instances that reached a
  step with a form, until the log holds exactly ``--transitions`` rows.

    python bench/analytics_data.py [--instances N] [--transitions M]    # a throwaway database, dropped

``populate(url, instances, transitions)`` is what bench/analytics.py calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import pairwise
from typing import Any

from harness import LOCAL_MYSQL, ROOT, Database

sys.path.insert(0, str(ROOT))

WORKFLOW = "bench_funnel"
STATES = ("welcome", "identity", "address", "topics", "agreement", "review", "done")
CHUNK = 100_000
SOURCE = """\
id: bench_funnel
version: {version}
title: Benchmark funnel
initial: welcome
states:
{states}
  done: {{final: true}}
transitions:
{transitions}
"""
DEPTH = ("CASE WHEN h < 55 THEN 6 WHEN h < 65 THEN 5 WHEN h < 73 THEN 4 WHEN h < 80 THEN 3 "
         "WHEN h < 87 THEN 2 WHEN h < 94 THEN 1 ELSE 0 END")


def workflow_source(version: int) -> str:
    states = "\n".join(f"  {name}:\n    fields: [{{name: {name}_answer, type: text}}]\n    sla: {24 * (i + 1)}h"
                       for i, name in enumerate(STATES[:-1]))
    transitions = "\n".join(f"  - {{trigger: next, source: {a}, dest: {b}}}" for a, b in pairwise(STATES))
    return SOURCE.format(version=version, states=states, transitions=transitions)


def _names(expression: str, offset: int = 1) -> str:
    return f"ELT({expression} + {offset}, {', '.join(repr(s) for s in STATES)})"


def _instances(first: int, last: int, total: int) -> str:
    """Instances ``first``..``last``: their state, times and source follow from their id."""
    started = f"TIMESTAMP('2025-11-20') + INTERVAL FLOOR(id * 31536000 / {total}) SECOND"  # in id order
    entered = f"{started} + INTERVAL depth * 5 MINUTE"
    return f"""
INSERT INTO workflow_instances (id, workflow_id, version, state, data, history, actor_id, is_completed,
    started_at, updated_at, entered_at, completed_at, abandoned_at, lock_version)
SELECT id, '{WORKFLOW}', IF(id MOD 10 < 7, 1, 2), {_names('depth')},
    IF(id MOD 10 = 3, JSON_OBJECT('invited_by', id), '{{}}'), '[]', NULL, depth = 6,
    {started}, {entered}, {entered}, IF(depth = 6, {entered}, NULL),
    IF(depth < 6 AND id MOD 3 = 0, {entered} + INTERVAL 1 HOUR, NULL), depth + 1
FROM (SELECT seq AS id, {DEPTH} AS depth
      FROM (SELECT seq, seq * 2654435761 MOD 100 AS h FROM seq_{first}_to_{last}) AS hashed) AS drawn"""


def _forward(first: int, last: int) -> str:
    """One ``next`` transition per step each instance took (its depth: the index of its state)."""
    duration = "(5 + (i.id * 31 + s.seq * 17) MOD 600) * 1000"
    return f"""
INSERT INTO workflow_transitions (instance_id, workflow_id, version, source, dest, `trigger`, actor_id, at,
    duration_ms, changes)
SELECT i.id, i.workflow_id, i.version, {_names('s.seq')}, {_names('s.seq', 2)}, 'next', NULL,
    i.started_at + INTERVAL (s.seq + 1) * 5 MINUTE, {duration}, NULL
FROM workflow_instances i JOIN seq_0_to_5 s ON s.seq < FIELD(i.state, {', '.join(repr(x) for x in STATES)}) - 1
WHERE i.id BETWEEN {first} AND {last}"""


def _back_and_forth(pairs: int, odd: int) -> list[str]:
    """``pairs`` instances that reached review go back to agreement and forward again (oldest first);
    with ``odd``, one more goes back only."""
    rows = []
    for source, dest, trigger, seconds, count in (("review", "agreement", "back", 7, pairs + odd),
                                                  ("agreement", "review", "next", 42, pairs)):
        picked = f"""(SELECT id FROM workflow_instances WHERE workflow_id = '{WORKFLOW}'
                AND state IN ('review', 'done') ORDER BY id LIMIT {count}) AS picked"""
        rows.append(f"""
INSERT INTO workflow_transitions (instance_id, workflow_id, version, source, dest, `trigger`, actor_id, at,
    duration_ms, changes)
SELECT i.id, i.workflow_id, i.version, '{source}', '{dest}', '{trigger}', NULL,
    i.started_at + INTERVAL 30 MINUTE, (i.id MOD 60 + {seconds}) * 1000, NULL
FROM workflow_instances i JOIN {picked} ON picked.id = i.id""")
    return rows


def populate(url: str, instances: int = 1_000_000, transitions: int = 5_000_000) -> dict[str, Any]:
    """Publish the workflow and write the history into the database at ``url``; how long it took."""
    from sqlalchemy import func, select, text

    from engagement.db import make_engine, make_session_factory, transaction
    from engagement.workflow import definitions
    from engagement.workflow.checker import check_text
    from engagement.workflow.models import WorkflowTransition

    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with transaction(factory) as session:
        for version in (1, 2):
            spec, diagnostics = check_text(workflow_source(version), "bench_funnel.yml")
            assert spec is not None, diagnostics
            definitions.publish(session, spec, workflow_source(version), "bench_funnel.yml")
    for first in range(1, instances + 1, CHUNK):
        last = min(first + CHUNK - 1, instances)
        with engine.begin() as conn:
            conn.execute(text(_instances(first, last, instances)))
            conn.execute(text(_forward(first, last)))
    with factory() as session:
        forward = session.scalar(select(func.count()).select_from(WorkflowTransition)) or 0
    missing = transitions - forward
    if missing < 0:
        raise SystemExit(f"{forward} forward transitions already: more than {transitions}")
    with engine.begin() as conn:
        for statement in _back_and_forth(missing // 2, missing % 2):
            conn.execute(text(statement))
        conn.execute(text("ANALYZE TABLE workflow_instances, workflow_transitions"))
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(WorkflowTransition))
    engine.dispose()
    return {"instances": instances, "transitions": total, "forward": forward,
            "insert_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--transitions", type=int, default=5_000_000)
    args = parser.parse_args()
    given = os.environ.get("DATABASE_URL", "")
    with Database(given if given.startswith("mysql") else LOCAL_MYSQL) as database:
        print(populate(database.url, args.instances, args.transitions))


if __name__ == "__main__":
    main()
