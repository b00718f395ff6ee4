"""The local search engine (SQLite FTS5) with 100,000 records (issue #9: p95 query under 10 ms in process,
reindex of 100,000 records under 30 s).

100,000 rows are bulk-inserted behind the indexing hooks (60 % upcoming events, 35 % approved committees,
5 % published pages) with French names and descriptions (accents included) over 40 communes; then, per run:
``engagement.search.service.reindex`` into an emptied index (the emptying is untimed), the same reindex
again over an index already in step, and 1,000 in-process searches of ``LocalIndex``: a realistic mix of
prefixes being typed (2 to 6 letters), whole words typed with or without accents, two-word queries, and a
type or department filter on a third of them. Prints one JSON document: the medians of the runs.

    python bench/search.py [--records N] [--runs R] [--queries Q] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import ROOT, create_tables, emit, machine, ms, percentile

sys.path.insert(0, str(ROOT))

WORDS = ("réunion", "publique", "école", "santé", "hôpital", "climat", "écologie", "transition", "débat",
         "marché", "porte-à-porte", "formation", "militants", "quartier", "jeunesse", "retraités", "énergie",
         "logement", "transports", "culture", "égalité", "sécurité", "emploi", "agriculture", "numérique",
         "démocratie", "citoyenne", "solidarité", "économie", "européenne", "fête", "pique-nique", "conférence",
         "atelier", "rencontre", "permanence", "collage", "tractage", "événement", "mobilisation")
COMMUNES = (("75104", "75004", "Paris 4e Arrondissement"), ("69381", "69001", "Lyon 1er Arrondissement"),
            ("13201", "13001", "Marseille 1er Arrondissement"), ("31555", "31000", "Toulouse"),
            ("33063", "33000", "Bordeaux"), ("44109", "44000", "Nantes"), ("59350", "59000", "Lille"),
            ("67482", "67000", "Strasbourg"), ("06088", "06000", "Nice"), ("34172", "34000", "Montpellier"),
            ("35238", "35000", "Rennes"), ("21231", "21000", "Dijon"), ("63113", "63000", "Clermont-Ferrand"),
            ("87085", "87000", "Limoges"), ("29019", "29200", "Brest"), ("45234", "45000", "Orléans"),
            ("42218", "42000", "Saint-Étienne"), ("76540", "76000", "Rouen"), ("37261", "37000", "Tours"),
            ("49007", "49000", "Angers"), ("38185", "38000", "Grenoble"), ("80021", "80000", "Amiens"),
            ("51454", "51100", "Reims"), ("57463", "57000", "Metz"), ("54395", "54000", "Nancy"),
            ("25056", "25000", "Besançon"), ("86194", "86000", "Poitiers"), ("64445", "64000", "Pau"),
            ("66136", "66000", "Perpignan"), ("30189", "30000", "Nîmes"), ("84007", "84000", "Avignon"),
            ("14118", "14000", "Caen"), ("72181", "72000", "Le Mans"), ("18033", "18000", "Bourges"),
            ("17300", "17000", "La Rochelle"), ("24322", "24000", "Périgueux"), ("65440", "65000", "Tarbes"),
            ("2A004", "20000", "Ajaccio"), ("97411", "97400", "Saint-Denis"), ("97209", "97200", "Fort-de-France"))


def _department(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def _address(rng: random.Random) -> dict[str, str]:
    code, postal, name = rng.choice(COMMUNES)
    return {"street": f"{rng.randint(1, 200)} rue de la République", "postal_code": postal, "city": code,
            "city_name": name, "country": "FR"}


def _text(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def populate(factory: Any, records: int, seed: int = 9) -> None:
    """Events, committees and pages, bulk-inserted (no session hook sees them: nothing is indexed yet)."""
    from sqlalchemy import insert

    from engagement.committees.models import Committee
    from engagement.db import transaction
    from engagement.events.models import Event
    from engagement.pages.models import ContentPage

    rng, now = random.Random(seed), datetime.now(UTC)
    events, committees = int(records * 0.60), int(records * 0.35)
    pages = records - events - committees
    with transaction(factory) as session:
        for start in range(0, events, 5000):
            rows = []
            for n in range(start, min(events, start + 5000)):
                address = _address(rng)
                begins = now + timedelta(days=rng.randint(1, 300), hours=rng.randint(0, 23))
                rows.append({"slug": f"e{n}", "name": f"{_text(rng, 3).capitalize()} à {address['city_name']}",
                             "description": _text(rng, 25), "begins_at": begins, "ends_at": begins + timedelta(hours=2),
                             "timezone": "Europe/Paris", "address": address, "postal_code": address["postal_code"],
                             "department": _department(address["city"]), "category": "meeting", "status": "scheduled",
                             "created_at": now, "seats_taken": 0, "sequence": 0})
            session.execute(insert(Event), rows)
        for start in range(0, committees, 5000):
            rows = []
            for n in range(start, min(committees, start + 5000)):
                address = _address(rng)
                rows.append({"slug": f"c{n}", "name": f"Comité {_text(rng, 1)} {address['city_name']} {n}",
                             "description": _text(rng, 20), "address": address, "postal_code": address["postal_code"],
                             "department": _department(address["city"]), "status": "approved", "created_at": now})
            session.execute(insert(Committee), rows)
        session.execute(insert(ContentPage), [
            {"slug": f"p{n}", "title": _text(rng, 4).capitalize(), "body": _text(rng, 60), "is_published": True,
             "created_at": now, "updated_at": now} for n in range(pages)])


def queries(count: int, seed: int) -> list[dict[str, Any]]:
    """The mix a search box sees: prefixes being typed, whole words (accents or not), pairs, filters."""
    from engagement.search.text import fold

    rng, found = random.Random(seed), []
    cities = [name.split()[0] for _, _, name in COMMUNES]
    for _ in range(count):
        word = rng.choice(WORDS + tuple(cities))
        shape = rng.random()
        if shape < 0.45:
            text = word[:rng.randint(2, 6)]  # a word being typed
        elif shape < 0.70:
            text = word if rng.random() < 0.5 else fold(word)  # a whole word, accents or not
        else:
            text = f"{rng.choice(WORDS)} {word[:rng.randint(3, 6)]}"  # a second word being typed
        filters: dict[str, Any] = {}
        if rng.random() < 0.33:
            if rng.random() < 0.5:
                filters["kind"] = rng.choice(("event", "committee", "page"))
            else:
                filters["department"] = _department(rng.choice(COMMUNES)[0])
        found.append({"text": text, **filters})
    return found


def run(factory: Any, asked: list[dict[str, Any]], run_number: int) -> dict[str, float]:
    from sqlalchemy import delete

    from engagement.db import transaction, utcnow
    from engagement.search import service
    from engagement.search.local import LocalIndex
    from engagement.search.models import SearchRecord
    from engagement.search.port import Query

    with transaction(factory) as session:  # an empty index: the reindex writes every record
        session.execute(delete(SearchRecord))
    started = time.perf_counter()
    written = service.reindex(factory, batch=1000)
    reindex = time.perf_counter() - started
    started = time.perf_counter()
    service.reindex(factory, batch=1000)
    unchanged = time.perf_counter() - started
    index, now, samples, hits = LocalIndex(factory), utcnow(), [], []
    for query in asked:
        started = time.perf_counter()
        answer = index.search(Query(query["text"], now, kind=query.get("kind"), department=query.get("department")))
        samples.append(time.perf_counter() - started)
        hits.append(len(answer.hits))
    print(f"run {run_number}: {written['local']} records, reindex {reindex:.1f} s, again {unchanged:.1f} s, "
          f"p95 {ms(percentile(samples, 0.95))} ms", file=sys.stderr)
    return {"records": written["local"], "reindex_s": round(reindex, 2), "reindex_unchanged_s": round(unchanged, 2),
            "query_median_ms": ms(statistics.median(samples)), "query_p90_ms": ms(percentile(samples, 0.90)),
            "query_p95_ms": ms(percentile(samples, 0.95)), "query_p99_ms": ms(percentile(samples, 0.99)),
            "query_max_ms": ms(max(samples)), "queries_with_hits": sum(1 for n in hits if n)}


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    from engagement.db import make_engine, make_session_factory
    from engagement.search import service

    service.configure(None)  # the local engine only
    with tempfile.TemporaryDirectory(prefix="bench-search-") as root:
        url = f"sqlite:///{Path(root) / 'engagement.db'}"
        create_tables(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        populate(factory, args.records)
        print(f"{args.records} rows inserted in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        runs = [run(factory, queries(args.queries, seed=n), n) for n in range(1, args.runs + 1)]
        engine.dispose()
    result = {"benchmark": "search", "engine": "sqlite fts5", "records": args.records, "runs": args.runs,
              "queries_per_run": args.queries, "targets": {"query_p95_ms": 10, "reindex_s": 30},
              "median_of_runs": {key: statistics.median(r[key] for r in runs) for key in runs[0]},
              "machine": machine()}
    print(json.dumps(result, indent=2))
    emit(result, argv)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
