"""The page cache's hit rate under a realistic mix, and how often it shows a stale seat count (issue #21).

The real application (gunicorn, 2 sync workers) with the demo data; 4 anonymous readers (French) ask for
the home page (15 %), the events list (15 %, three variants) and the event pages (70 %, the popular ones
more: weights 1/rank). One read in ``REGISTER_EVERY`` is followed by a registration, committed by this
process through the core (``registration.place``, as the workflow's action takes a place), on an event
drawn the same way; this process knows the seats left after each commit. An event page answered with more
seats than were left when its request started is a *stale view*. Median of the runs.

    python bench/page_cache_mix.py [--quick] [--services] [--json out.json]

``--services``: the page cache in Redis (``REDIS_URL`` or the local one) instead of each process's memory.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from harness import create_tables, deployment_env, emit, machine
from loadgen import gunicorn

ROOT = Path(__file__).resolve().parent.parent
READERS = 4
REGISTER_EVERY = 100  # one registration for a hundred page views
SEATS = re.compile(r"(\d+) (?:places? restantes?|seats? left)|(Complet|Full)")  # French, or English if uncompiled


class Mix:
    """The shared state of one run: the truth about seats, and what the readers saw."""

    def __init__(self, base: str, core: Any, slugs: list[str]) -> None:
        self.base, self.core, self.slugs = base, core, slugs
        self.lock = threading.Lock()
        self.seats = {slug: self._seats_left(slug) for slug in slugs}
        self.counts = {"reads": 0, "hits": 0, "event_reads": 0, "stale": 0, "registrations": 0}
        self.registered = 0

    def _seats_left(self, slug: str) -> int | None:
        from engagement.events import service

        with self.core.sessions() as session:
            event = service.by_slug(session, slug)
            return None if event is None else event.seats_left

    def pick(self, rng: random.Random) -> str:
        weights = [1 / (rank + 1) for rank in range(len(self.slugs))]
        return rng.choices(self.slugs, weights)[0]

    def read(self, rng: random.Random) -> None:
        draw = rng.random()
        slug = self.pick(rng) if draw >= 0.30 else None
        path = (f"/events/{slug}" if slug else "/" if draw < 0.15
                else rng.choice(["/events", "/events?page=1", "/events?department=75"]))
        truth = self.seats.get(slug) if slug else None
        request = urllib.request.Request(self.base + path, headers={"Accept-Language": "fr"})
        with urllib.request.urlopen(request, timeout=30) as response:
            hit, body = response.headers.get("X-Page-Cache") == "hit", response.read().decode()
        stale = False
        if slug and truth is not None and (found := SEATS.search(body)):
            stale = (0 if found.group(2) else int(found.group(1))) > truth
        with self.lock:
            self.counts["reads"] += 1
            self.counts["hits"] += hit
            self.counts["event_reads"] += bool(slug and truth is not None)
            self.counts["stale"] += stale
            due = self.counts["reads"] % REGISTER_EVERY == 0
        if due:
            self.register(rng)

    def register(self, rng: random.Random) -> None:
        from engagement.db import transaction, utcnow
        from engagement.events import registration, service

        slug = self.pick(rng)
        with self.lock:
            self.registered += 1
            number = self.registered
        person = registration.Person(f"bench-{uuid.uuid4().hex[:10]}-{number}@example.org", "Bench", "Reader")
        with transaction(self.core.sessions) as session:
            event = service.by_slug(session, slug)
            assert event is not None
            registration.place(session, event.id, person, waitlist=True, now=utcnow(), locale="fr")
        left = self._seats_left(slug)  # after the commit (and whatever it purges)
        with self.lock:
            self.seats[slug] = left
            self.counts["registrations"] += 1


def one_run(base: str, core: Any, slugs: list[str], seconds: float, seed: int) -> dict[str, Any]:
    mix = Mix(base, core, slugs)
    deadline = time.monotonic() + seconds

    def reader(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        while time.monotonic() < deadline:
            mix.read(rng)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = mix.counts
    return {**counts, "hit_rate": round(counts["hits"] / max(1, counts["reads"]), 4),
            "stale_rate": round(counts["stale"] / max(1, counts["event_reads"]), 4)}


def main(argv: list[str]) -> dict[str, Any]:
    quick, services = "--quick" in argv, "--services" in argv
    runs, seconds = (1, 10) if quick else (3, 30)
    with tempfile.TemporaryDirectory(prefix="bench-page-mix-") as tmp:
        root = Path(tmp)
        env = deployment_env(root, ROOT / "workflows")
        create_tables(env["DATABASE_URL"])
        env["REDIS_URL"] = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0") if services else ""
        env["REDIS_PREFIX"] = f"bench-{uuid.uuid4().hex[:8]}:"
        os.environ.update(env)
        subprocess.run([sys.executable, "-m", "web.cli", "demo", "load"], env=os.environ, cwd=ROOT, check=True,
                       capture_output=True, timeout=600)
        from engagement.config import load_settings
        from engagement.core import bootstrap
        from engagement.db import utcnow
        from engagement.events import service

        core = bootstrap(load_settings())
        with core.sessions() as session:
            slugs = [event.slug for event in service.upcoming(session, utcnow(), limit=20)]
        per_run = []
        with gunicorn("web.wsgi:app", env, root / "web.log", 2, ready_path="/healthz") as app:
            for index in range(runs):
                per_run.append(one_run(app.base, core, slugs, seconds, index))
                print(f"run {index + 1}/{runs}: {per_run[-1]}", file=sys.stderr)
    return {"hit_rate": statistics.median(r["hit_rate"] for r in per_run),
            "stale_rate": statistics.median(r["stale_rate"] for r in per_run), "per_run": per_run,
            "mode": "page cache in Redis" if services else "page cache in each process's memory",
            "readers": READERS, "register_every": REGISTER_EVERY, "runs": runs, "seconds": seconds,
            "workers": 2, "machine": machine()}


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    emit(outcome, sys.argv[1:])
    if "--json" not in sys.argv:
        print(json.dumps({k: outcome[k] for k in ("hit_rate", "stale_rate", "mode")}))
