"""Building an audience list of 100,000 members (issue #6: under 5 s), on SQLite and, when
``DATABASE_URL`` names MySQL/MariaDB, on a throwaway database next to it.

100,000 activated members in one department (Paris, the 20 arrondissements in turn), every one of
them also following one committee, inserted in bulk; then ``engagement.campaigns.lists.build`` of
the department's list and of the committee's, each marked dirty first (untimed) so that every run
really rebuilds. For scale: the counting query a page would otherwise run
(``audiences.count``) next to the stored count (``lists.estimate``).

    python bench/audience_lists.py [--members N] [--runs R] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ROOT, Database, create_tables, emit

sys.path.insert(0, str(ROOT))

TARGET_S = 5.0
BATCH = 5000
FIRST_NAMES = ("Camille", "Dominique", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès", "Jules",
               "Zoé", "Arthur", "Jade", "Raphaël", "Louise", "Adam", "Alice", "Noah", "Emma", "Lucas")
LAST_NAMES = ("Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
              "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
              "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André")


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'engagement.db'}"


@contextmanager
def mysql_url(base_url: str) -> Iterator[str]:
    """A throwaway database on the server of ``base_url`` (its tables created), dropped afterwards."""
    with Database(base_url) as database:
        yield database.url


def populate(factory: Any, members: int) -> int:
    """``members`` activated members in department 75, all following one committee; its id."""
    from sqlalchemy import insert, select

    from engagement.accounts.models import User
    from engagement.committees.models import Committee, CommitteeMembership
    from engagement.db import transaction, utcnow

    now, draw = utcnow(), random.Random(2026)
    with transaction(factory) as session:
        session.execute(insert(Committee), [{"slug": "bench", "name": "Bench", "description": "", "address": {},
                                             "postal_code": "75001", "department": "75", "status": "approved",
                                             "created_at": now}])
        committee_id = session.scalar(select(Committee.id))
        for start in range(0, members, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, members)):
                arrondissement = n % 20 + 1
                rows.append({"email": f"member{n:06d}@bench.invalid", "first_name": draw.choice(FIRST_NAMES),
                             "last_name": draw.choice(LAST_NAMES), "role": "member", "is_active": True,
                             "created_at": now, "activated_at": now, "department": "75",
                             "address": {"street": f"{n % 150 + 1} rue de Rivoli",
                                         "postal_code": f"750{arrondissement:02d}",
                                         "city": f"751{arrondissement:02d}",
                                         "city_name": f"Paris {arrondissement}e Arrondissement", "country": "FR"}})
            session.execute(insert(User), rows)
        ids = list(session.scalars(select(User.id).order_by(User.id)))
        for start in range(0, len(ids), BATCH):
            session.execute(insert(CommitteeMembership), [
                {"committee_id": committee_id, "user_id": user_id, "role": "follower", "created_at": now}
                for user_id in ids[start:start + BATCH]])
    return committee_id


def timed_build(factory: Any, key: str) -> float:
    from engagement.campaigns import lists
    from engagement.db import transaction, utcnow

    with transaction(factory) as session:  # untimed: every run rebuilds
        lists.mark_dirty(session, [key], utcnow())
    started = time.perf_counter()
    assert lists.build(factory, key)
    return time.perf_counter() - started


def measure(url: str, members: int, runs: int) -> dict[str, Any]:
    from engagement.campaigns import audiences, lists
    from engagement.db import make_engine, make_session_factory

    create_tables(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    committee_id = populate(factory, members)
    inserted = time.perf_counter() - started
    result: dict[str, Any] = {"members": members, "insert_s": round(inserted, 2)}
    for name, key in (("department", "department:75"), ("committee", lists.committee_key(committee_id))):
        times = [timed_build(factory, key) for _ in range(runs)]
        with factory() as session:
            stored = lists.read(session, key)
            assert stored is not None and stored.size == members
        result[name] = {"runs_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3),
                        "gzip_bytes": len(stored.body), "members_per_s": round(members / statistics.median(times))}
    with factory() as session:
        started = time.perf_counter()
        counted = audiences.count(session, audiences.parse(session, "department:75"))
        result["count_query_ms"] = round((time.perf_counter() - started) * 1000, 2)
        started = time.perf_counter()
        estimated = lists.estimate(session, "department:75")
        result["stored_count_ms"] = round((time.perf_counter() - started) * 1000, 2)
        assert counted == estimated == members
        stored = lists.read(session, "department:75")
        assert stored is not None
        result["json_bytes"] = len(gzip.decompress(stored.body))
    engine.dispose()
    return result


def report(label: str, result: dict[str, Any], runs: int) -> None:
    for name in ("department", "committee"):
        figures = result[name]
        print(f"{label}: {name} list of {result['members']:,} members, median of {runs}: {figures['median_s']:.3f} s "
              f"({figures['members_per_s']:,} members/s; gzip {figures['gzip_bytes'] / 1e6:.2f} MB)  "
              f"target < {TARGET_S:.0f} s: {'met' if figures['median_s'] < TARGET_S else 'MISSED'}")
    print(f"{label}: JSON {result['json_bytes'] / 1e6:.2f} MB; counting query {result['count_query_ms']} ms, "
          f"stored count {result['stored_count_ms']} ms; bulk insert {result['insert_s']} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="10,000 members, one run (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.members, args.runs = 10_000, 1
    results: dict[str, Any] = {"runs": args.runs}
    with sqlite_url() as url:
        results["sqlite"] = measure(url, args.members, args.runs)
    report("SQLite", results["sqlite"], args.runs)
    service = os.environ.get("DATABASE_URL", "")
    if service.startswith("mysql"):
        with mysql_url(service) as url:
            results["mysql"] = measure(url, args.members, args.runs)
        report("MariaDB", results["mysql"], args.runs)
    results["target_met"] = all(results[db][name]["median_s"] < TARGET_S
                                for db in ("sqlite", "mysql") if db in results for name in ("department", "committee"))
    emit(results, sys.argv)


if __name__ == "__main__":
    main()
