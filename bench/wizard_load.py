"""The wizard under load, next to Flask's hello world, both under gunicorn (2 sync workers).

Every wizard request is a real step: a POST with the session cookie, the CSRF token and the
step token, the first step's four fields that validate (two texts, an integer, a choice), a
self-loop transition with its log row, a commit and a 303. Each wrk thread drives one connection and
one visitor of its own, prepared here with requests; a 303 to anywhere but the step page
(``?stale=1``) counts as an error.

    python bench/wizard_load.py [--quick] [--workers N (default 2)] [--services] [--json out.json]

``--services`` (issue #7): the wizard on MariaDB (a throwaway database beside ``DATABASE_URL``, or
the local socket's) with its sessions in Redis (``REDIS_URL``, or the local one, under a prefix of
its own), at 32 connections; targets 20 % of hello world and p99 under 80 ms.

``--floor`` also loads the same app's ``/healthz`` in each run: what every request of this app costs
before any view work (the WSGI chain, Flask and its extensions), for scale.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from harness import LOCAL_MYSQL, Database, create_tables, deployment_env, emit
from loadgen import Server, gunicorn, run_wrk

WORKFLOW_ID = "bench_loop"
PATH = f"/w/{WORKFLOW_ID}"
# Three steps of four required fields, each with a self-loop (``save``) and a way on; the peer's
# django-formtools wizard (bench/peers/formtools/peer/forms.py) has the same fields and rules.
WORKFLOW = """\
id: bench_loop
version: 1
title: {fr: Banc d’essai, en: Bench}
access: public
initial: entry
states:
  entry:
    title: {fr: Saisie, en: Entry}
    fields:
      - {name: full_name, type: text, label: Nom, required: true, min_length: 2, max_length: 80}
      - {name: quantity, type: integer, label: Quantité, required: true, min: 0, max: 100000000}
      - {name: colour, type: choice, label: Couleur, required: true, choices: {red: Rouge, green: Vert, blue: Bleu}}
      - {name: city, type: text, label: Ville, required: true, min_length: 2, max_length: 80}
  details:
    title: {fr: Détails, en: Details}
    fields:
      - {name: team, type: text, label: Équipe, required: true, min_length: 2, max_length: 80}
      - {name: members, type: integer, label: Membres, required: true, min: 0, max: 100000000}
      - {name: size, type: choice, label: Taille, required: true,
         choices: {small: Petite, medium: Moyenne, large: Grande}}
      - {name: street, type: text, label: Rue, required: true, min_length: 2, max_length: 80}
  extra:
    title: {fr: Compléments, en: Extras}
    fields:
      - {name: nickname, type: text, label: Surnom, required: true, min_length: 2, max_length: 80}
      - {name: budget, type: integer, label: Budget, required: true, min: 0, max: 100000000}
      - {name: shape, type: choice, label: Forme, required: true,
         choices: {circle: Cercle, square: Carré, star: Étoile}}
      - {name: region, type: text, label: Région, required: true, min_length: 2, max_length: 80}
  done: {final: true, title: Fin}
transitions:
  - {trigger: save, source: entry, dest: entry}
  - {trigger: next, source: entry, dest: details}
  - {trigger: save, source: details, dest: details}
  - {trigger: next, source: details, dest: extra}
  - {trigger: save, source: extra, dest: extra}
  - {trigger: finish, source: extra, dest: done}
"""
ANSWERS = {"trigger": "save", "full_name": "Camille Bench", "colour": "green", "city": "Clermont-Ferrand"}
LUA = Path(__file__).with_name("wizard_post.lua")
TARGETS = {"embedded": (0.25, 50.0), "services": (0.20, 80.0)}  # (share of hello world, p99 ms): #2, #7


def prepare_visitor(base: str) -> dict[str, Any]:
    """A visitor whose instance (started by the first GET) is past its first step: cookie, CSRF token, step."""
    browser = requests.Session()
    page = browser.get(base + PATH, timeout=10).text
    first = {"csrf_token": _hidden(page, "csrf_token"), "step": _hidden(page, "step"), **ANSWERS, "quantity": "1"}
    response = browser.post(base + PATH, data=first, allow_redirects=False, timeout=10)
    if response.status_code != 303 or "stale" in response.headers.get("Location", ""):
        raise RuntimeError(f"the first step was refused: {response.status_code} {response.headers.get('Location')}")
    page = browser.get(base + PATH, timeout=10).text
    cookie = browser.cookies.get("engagement_session")
    return {"cookie": f"engagement_session={cookie}", "step": int(_hidden(page, "step")),
            "prefix": urlencode({"csrf_token": _hidden(page, "csrf_token"), **ANSWERS})}


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    if found is None:
        raise RuntimeError(f"no hidden input {name!r} on the page")
    return found.group(1)


def write_visitors(path: Path, visitors: list[dict[str, Any]]) -> None:
    """The Lua table the wrk script reads (one visitor per thread)."""
    rows = ",\n".join(
        f"  {{cookie = {json.dumps(v['cookie'])}, step = {v['step']}, prefix = {json.dumps(v['prefix'])}}}"
        for v in visitors)
    path.write_text(f"return {{\n{rows}\n}}\n")


def wizard_run(server: Server, work: Path, index: int, connections: int, seconds: int) -> dict[str, Any]:
    visitors = [prepare_visitor(server.base) for _ in range(connections)]
    return scripted_run(server, work, f"wizard_{index}", visitors, LUA, PATH, seconds)


def scripted_run(server: Server, work: Path, name: str, visitors: list[dict[str, Any]], lua: Path, path: str,
                 seconds: int) -> dict[str, Any]:
    """wrk POSTing ``path`` with ``lua`` (a template: @VISITORS@, @PATH@), one thread and connection a visitor."""
    data = work / f"visitors_{name}.lua"
    write_visitors(data, visitors)
    script = work / f"{name}.lua"
    script.write_text(lua.read_text().replace("@VISITORS@", str(data)).replace("@PATH@", path))
    result = run_wrk(server, server.base + path, threads=len(visitors), connections=len(visitors),
                     seconds=seconds, script=script)
    out = result.as_dict()
    out["errors"] = result.extra.get("errors", -1) + result.socket_errors
    return out


def get_run(server: Server, path: str, connections: int, seconds: int) -> dict[str, Any]:
    """Plain GETs of ``path``: hello world's page, or the app's ``/healthz`` (``--floor``)."""
    result = run_wrk(server, server.base + path, threads=connections, connections=connections, seconds=seconds)
    out = result.as_dict()
    out["errors"] = result.non_2xx_3xx + result.socket_errors
    return out


def main(argv: list[str]) -> dict[str, Any]:
    quick, services, floor = "--quick" in argv, "--services" in argv, "--floor" in argv
    runs, seconds = (1, 3) if quick else (3, 15)
    connections = 32 if services else 16
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    database = Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL) if services else None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-wizard-") as tmp:
            root = Path(tmp)
            env = _deployment(root, database)
            per_run: list[dict[str, Any]] = []
            with gunicorn("web.wsgi:app", env, root / "wizard.log", workers, ready_path="/healthz") as wizard, \
                    gunicorn("bench.hello:app", {}, root / "hello.log", workers) as hello:
                for index in range(runs):
                    per_run.append({"hello": get_run(hello, "/", connections, seconds),
                                    "wizard": wizard_run(wizard, root, index, connections, seconds)})
                    if floor:
                        per_run[-1]["floor"] = get_run(wizard, "/healthz", connections, seconds)
                    print(f"run {index + 1}/{runs}: {_line(per_run[-1])}", file=sys.stderr)
            logged = _logged_transitions(env["DATABASE_URL"])
    finally:
        if database is not None:
            database.drop()
    result = _aggregate(per_run, runs, seconds, connections, "services" if services else "embedded")
    result["workers"] = workers
    result["mode"] = "MariaDB + Redis sessions" if services else "SQLite + database sessions"
    expected = sum(run["wizard"]["extra"].get("ok", 0) for run in per_run) + runs * connections
    # wrk stops with one request in flight per connection: the server may still commit those.
    result["db_check"] = {"logged_transitions": logged, "expected": expected,
                          "matches": 0 <= logged - expected <= runs * connections}
    report(result)
    return result


def _deployment(root: Path, database: Database | None) -> dict[str, str]:
    workflows = root / "workflows"
    workflows.mkdir()
    (workflows / f"{WORKFLOW_ID}.yml").write_text(WORKFLOW)
    env = deployment_env(root, workflows)
    if database is None:
        create_tables(env["DATABASE_URL"])
        return env
    return {**env, "DATABASE_URL": database.url, "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}:"}


def _logged_transitions(database_url: str) -> int:
    """Rows in the transition log: one per 303 counted by wrk plus one per visitor's first step."""
    from sqlalchemy import create_engine, func, select

    from engagement.workflow.models import WorkflowTransition

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(WorkflowTransition))
    engine.dispose()
    return int(count or 0)


def _line(run: dict[str, Any]) -> str:
    h, w = run["hello"], run["wizard"]
    line = (f"hello {h['requests_per_s']:.0f} req/s p99 {h['latency_ms']['p99']} ms; wizard {w['requests_per_s']:.0f}"
            f" req/s p50 {w['latency_ms']['p50']} ms p99 {w['latency_ms']['p99']} ms errors {w['errors']}")
    if "floor" in run:
        line += f"; /healthz {run['floor']['requests_per_s']:.0f} req/s"
    return line


def _aggregate(per_run: list[dict[str, Any]], runs: int, seconds: int, connections: int,
               mode: str) -> dict[str, Any]:
    def med(app: str, *keys: str) -> float:
        values = []
        for run in per_run:
            value: Any = run[app]
            for key in keys:
                value = value[key]
            values.append(value)
        return statistics.median(values)

    summary = {app: {"requests_per_s": med(app, "requests_per_s"), "p50_ms": med(app, "latency_ms", "p50"),
                     "p90_ms": med(app, "latency_ms", "p90"), "p99_ms": med(app, "latency_ms", "p99"),
                     "server_cpu_ms_per_request": med(app, "server_cpu_ms_per_request"),
                     "wrk_cpu_ms_per_request": med(app, "wrk_cpu_ms_per_request"),
                     "errors_total": sum(run[app]["errors"] for run in per_run)}
               for app in ("hello", "wizard", "floor") if app in per_run[0]}
    ratio = summary["wizard"]["requests_per_s"] / summary["hello"]["requests_per_s"]
    target_ratio, target_p99 = TARGETS[mode]
    return {"runs": runs, "seconds": seconds, "connections": connections, "threads": connections,
            "per_run": per_run, "summary": summary, "ratio": round(ratio, 3),
            "target_ratio": target_ratio, "target_p99_ms": target_p99,
            "ratio_met": ratio >= target_ratio, "p99_met": summary["wizard"]["p99_ms"] < target_p99}


def report(result: dict[str, Any]) -> None:
    s = result["summary"]
    print(f"wizard under load ({result['mode']}): gunicorn {result['workers']} sync workers, wrk -t{result['threads']} "
          f"-c{result['connections']} -d{result['seconds']}s, {result['runs']} runs, medians")
    for app in s:
        a = s[app]
        print(f"  {app:6} {a['requests_per_s']:8.1f} req/s  p50 {a['p50_ms']:.2f} ms  p90 {a['p90_ms']:.2f} ms  "
              f"p99 {a['p99_ms']:.2f} ms  server CPU {a['server_cpu_ms_per_request']:.2f} ms/req  "
              f"errors {a['errors_total']}")
    if "floor" in s:
        share = s["floor"]["requests_per_s"] / s["hello"]["requests_per_s"]
        print(f"  for scale: /healthz of the same app at {share:.1%} of hello world")
    print(f"  ratio wizard/hello {result['ratio']:.1%} (target >= {result['target_ratio']:.0%}: "
          f"{'met' if result['ratio_met'] else 'MISSED'}); wizard p99 < {result['target_p99_ms']:.0f} ms: "
          f"{'met' if result['p99_met'] else 'MISSED'}")
    check = result["db_check"]
    print(f"  transition log: {check['logged_transitions']} rows for {check['expected']} steps answered 303 "
          f"(+ up to {result['runs'] * result['connections']} in flight when wrk stopped): "
          f"{'consistent' if check['matches'] else 'INCONSISTENT'}")


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv[1:])
