"""Issue #23, finding 4: does the time of a "send me a link" request tell whether the address has an account?

The real application under gunicorn (2 sync workers, `engagement serve`'s settings from web/gunicorn_conf.py)
on a fresh SQLite deployment. Each try is one visitor: a GET of the form (for its CSRF token, not timed), then
the timed POST of one address. Known and unknown addresses alternate (in a random order within each pair);
every address is used once, so the per-address hourly cap (tokens.PER_ADDRESS_HOURLY) never hides the work a
known address causes. Each try comes from its own client address (``X-Forwarded-For``, one trusted proxy), so
the per-client rate limits of the form do not answer 429 instead.

    python bench/reset_timing.py [--tries 50] [--runs 3] [--form reset|resend|both] [--pause 0.05]
                                 [--quick] [--json out.json]

``--form reset``: ``/password/reset`` (known: an active account); ``resend``: ``/account/activate/resend``
(known: an account awaiting activation). ``--pause``: seconds between two tries. Prints, per form and kind,
the median over runs of each run's median and range (min..max), in milliseconds.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from harness import create_tables, deployment_env, emit, machine
from loadgen import Server, gunicorn

ROOT = Path(__file__).resolve().parent.parent
FORMS = {"reset": "/password/reset", "resend": "/account/activate/resend"}
WARM_UP = 5  # untimed pairs before each run: templates compiled, connections opened
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')


def create_accounts(database_url: str, emails: list[str], activated: bool) -> None:
    """The known addresses' accounts (active, or awaiting activation), straight through the core."""
    from engagement.accounts.service import create_user
    from engagement.db import make_engine, make_session_factory, transaction

    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        for email in emails:
            create_user(session, email, password="bench phrase de passe", activated=activated)
    engine.dispose()


def timed_ask(server: Server, path: str, email: str, client_ip: str) -> float:
    """Seconds the POST of ``email`` took, as a visitor (own session, own address) sees it."""
    with requests.Session() as visitor:
        visitor.headers["X-Forwarded-For"] = client_ip
        form = visitor.get(server.base + path, timeout=30)
        token = CSRF.search(form.text)
        if token is None:
            raise RuntimeError(f"no CSRF token on {path} ({form.status_code})")
        started = time.perf_counter()
        answer = visitor.post(server.base + path, data={"csrf_token": token.group(1), "email": email}, timeout=30)
        elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"POST {path} answered {answer.status_code}")
    return elapsed


class Addresses:
    """Fresh addresses, each used once: known ones (with an account) and unknown ones, and client IPs."""

    def __init__(self, form: str, count: int) -> None:
        self.known = [f"membre-{form}-{i:04d}@example.org" for i in range(count)]
        self.unknown = [f"inconnu-{form}-{i:04d}@example.org" for i in range(count)]  # same length as known
        self.used = 0

    def next_pair(self) -> tuple[str, str]:
        pair = self.known[self.used], self.unknown[self.used]
        self.used += 1
        return pair


def client_ip(index: int) -> str:
    """A distinct client address per try (10.0.0.0/8: 16 million of them)."""
    return f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"


def one_run(server: Server, form: str, addresses: Addresses, tries: int, pause: float) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"known": [], "unknown": []}
    for index in range(WARM_UP + tries):
        known, unknown = addresses.next_pair()
        order = [("known", known), ("unknown", unknown)]
        random.shuffle(order)
        for offset, (kind, email) in enumerate(order):
            seconds = timed_ask(server, FORMS[form], email, client_ip(addresses.used * 2 + offset))
            if index >= WARM_UP:
                samples[kind].append(seconds * 1000)
            time.sleep(pause)
    return samples


def describe(runs: list[dict[str, list[float]]]) -> dict[str, Any]:
    """Per kind: each run's median and range, and the median over runs of each."""
    result: dict[str, Any] = {}
    for kind in ("known", "unknown"):
        per_run = [{"median": statistics.median(r[kind]), "min": min(r[kind]), "max": max(r[kind])} for r in runs]
        result[kind] = {key: round(statistics.median(run[key] for run in per_run), 2) for key in per_run[0]}
        result[kind]["runs_median_ms"] = [round(run["median"], 2) for run in per_run]
    result["gap_ms"] = round(result["known"]["median"] - result["unknown"]["median"], 2)
    return result


def measure(form: str, tries: int, runs: int, pause: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-reset-") as tmp:
        root = Path(tmp)
        env = {**deployment_env(root, ROOT / "workflows"), "TRUSTED_PROXIES": "1", "REDIS_URL": ""}
        create_tables(env["DATABASE_URL"])
        addresses = Addresses(form, (WARM_UP + tries) * runs)
        create_accounts(env["DATABASE_URL"], addresses.known, activated=form == "reset")
        per_run = []
        with gunicorn("web.wsgi:app", env, root / "web.log", 2, ready_path="/healthz",
                      options=("--config", "python:web.gunicorn_conf")) as server:
            for index in range(runs):
                per_run.append(one_run(server, form, addresses, tries, pause))
                line = describe(per_run[-1:])
                print(f"{form} run {index + 1}/{runs}: known {line['known']['median']:.2f} ms "
                      f"({line['known']['min']:.2f}..{line['known']['max']:.2f}), unknown "
                      f"{line['unknown']['median']:.2f} ms ({line['unknown']['min']:.2f}.."
                      f"{line['unknown']['max']:.2f})", file=sys.stderr)
    return describe(per_run)


def _option(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    tries = int(_option(argv, "--tries", "10" if quick else "50"))
    runs = int(_option(argv, "--runs", "1" if quick else "3"))
    pause = float(_option(argv, "--pause", "0.05"))
    chosen = _option(argv, "--form", "both")
    forms = list(FORMS) if chosen == "both" else [chosen]
    result: dict[str, Any] = {form: measure(form, tries, runs, pause) for form in forms}
    result.update(tries=tries, runs=runs, pause_s=pause, workers=2, machine=machine())
    return result


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    emit(outcome, sys.argv[1:])
    for name in FORMS:
        if name in outcome:
            known, unknown = outcome[name]["known"], outcome[name]["unknown"]
            print(f"{name}: known median {known['median']} ms (range {known['min']}..{known['max']}), unknown "
                  f"median {unknown['median']} ms (range {unknown['min']}..{unknown['max']}), gap "
                  f"{outcome[name]['gap_ms']} ms")
    if "--json" not in sys.argv:
        print(json.dumps({k: v for k, v in outcome.items() if k in FORMS}))
