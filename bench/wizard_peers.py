"""Our wizard's step beside the peer a Python team would pick, django-formtools, and Flask's hello world.

One run starts three gunicorn servers, 2 sync workers each: ``bench.hello:app``, our ``web.wsgi:app``
(the ``bench_loop`` workflow of bench/wizard_load.py) and the peer, bench/peers/formtools (a
``NamedUrlSessionWizardView`` with the same three steps of four fields and the same rules, served by
the gunicorn of its own virtualenv, build/venv-peers: ``make bench-deps``). They are loaded in turn,
hello, ours, peer, round after round, so that a noisy neighbour hits all three alike; ratios are
taken within a round, then their median and spread (min-max) over the rounds.

- ours: bench/wizard_load.py's step POST (cookie, CSRF token, step token, the four fields, a self-loop
  with its log row, a commit, a 303);
- the peer: the POST of its first step (CSRF cookie and token, ``bench_wizard-current_step``, the four
  fields), which validates, stores the data in the session and redirects (302) to the second step.

Embedded: SQLite in WAL mode for both, sessions in the database; ``--services``: MariaDB through
PyMySQL (one throwaway database) and sessions in Redis (``REDIS_URL``) for both, at 32 connections;
the CPU of the MariaDB and Redis servers (``pidof``; ``/proc/<pid>/stat`` around each wrk run) is
divided by the run's requests and printed beside the workers', with their sum (the machine's CPU a
request; whatever else those servers serve meanwhile is counted too).

    python bench/wizard_peers.py [--quick] [--services] [--workers N] [--json out.json]
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import loadgen
import requests
from harness import LOCAL_MYSQL, ROOT, Database, emit
from loadgen import Server, gunicorn
from wizard_load import ANSWERS, TARGETS, _deployment, _hidden, _logged_transitions, get_run, scripted_run, wizard_run

PEER_DIR = ROOT / "bench" / "peers" / "formtools"
PEER_PYTHON = ROOT / "build" / "venv-peers" / "bin" / "python"
PEER_PATH = "/wizard/entry/"
PEER_FIELDS = {"bench_wizard-current_step": "entry",
               **{f"entry-{key}": value for key, value in ANSWERS.items() if key != "trigger"}}
PEER_LUA = Path(__file__).with_name("wizard_peer_post.lua")
APPS = ("hello", "ours", "peer")


def peer_deployment(root: Path, database: Database | None, redis_url: str) -> dict[str, str]:
    """The peer's environment (peer/settings.py reads it), its tables made by ``migrate``."""
    if not PEER_PYTHON.exists():
        raise SystemExit(f"{PEER_PYTHON} missing: run `make bench-deps`")
    env = {"PEER_SECRET_KEY": secrets.token_hex(32), "DJANGO_SETTINGS_MODULE": "peer.settings"}
    if database is None:
        env["PEER_SQLITE_PATH"] = str(root / "peer.db")
    else:
        from sqlalchemy.engine import make_url

        url = make_url(database.url)
        env |= {"PEER_MYSQL_DATABASE": url.database or "", "PEER_MYSQL_USER": url.username or "root",
                "PEER_MYSQL_PASSWORD": url.password or "", "PEER_MYSQL_HOST": url.host or "",
                "PEER_MYSQL_PORT": str(url.port or ""), "PEER_MYSQL_SOCKET": str(url.query.get("unix_socket", "")),
                "PEER_REDIS_URL": redis_url, "PEER_REDIS_PREFIX": f"bench-peer-{secrets.token_hex(4)}"}
    subprocess.run([str(PEER_PYTHON), "manage.py", "migrate", "-v0"], cwd=PEER_DIR, env={**os.environ, **env},
                   check=True, timeout=120)
    return env


def prepare_peer_visitor(base: str) -> dict[str, Any]:
    """A visitor who has passed the first step once (a 302 to the second): its cookies and fields."""
    browser = requests.Session()
    page = browser.get(base + PEER_PATH, timeout=10).text
    fields = {"csrfmiddlewaretoken": _hidden(page, "csrfmiddlewaretoken"), **PEER_FIELDS}
    response = browser.post(base + PEER_PATH, data={**fields, "entry-quantity": "1"}, allow_redirects=False,
                            timeout=10)
    if response.status_code != 302 or not response.headers.get("Location", "").endswith("/details/"):
        raise RuntimeError(f"the peer refused the first step: {response.status_code} {response.headers}")
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    return {"cookie": cookie, "step": 0, "prefix": urlencode(fields), "browser": browser}


def stored_quantity(base: str, visitor: dict[str, Any]) -> int:
    """The quantity the peer holds in the visitor's session (its page shows the stored step, bound)."""
    page = visitor["browser"].get(base + PEER_PATH, timeout=10).text
    found = re.search(r'name="entry-quantity" value="(\d+)"', page)
    return int(found.group(1)) if found else -1


def peer_run(server: Server, work: Path, index: int, connections: int, seconds: int) -> dict[str, Any]:
    """The peer's first step POSTed by wrk; then the sessions must hold the last quantity each visitor sent."""
    visitors = [prepare_peer_visitor(server.base) for _ in range(connections)]
    out = scripted_run(server, work, f"peer_{index}", visitors, PEER_LUA, PEER_PATH, seconds)
    stored, ok = sum(stored_quantity(server.base, v) for v in visitors), out["extra"].get("ok", 0)
    # Each thread's n-th POST sends quantity n; wrk stops with one POST in flight a connection.
    out["session_check"] = {"stored_quantities": stored, "answered_302": ok,
                            "matches": 0 <= stored - ok <= connections}
    return out


def one_round(servers: dict[str, Server], work: Path, index: int, connections: int, seconds: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    result = {"hello": get_run(servers["hello"], "/", connections, seconds),
              "ours": wizard_run(servers["ours"], work, index, connections, seconds),
              "peer": peer_run(servers["peer"], work, index, connections, seconds)}
    result["load_average"] = {"start": [round(x, 2) for x in load_before],
                              "end": [round(x, 2) for x in os.getloadavg()]}
    return result


def main(argv: list[str]) -> dict[str, Any]:
    quick, services = "--quick" in argv, "--services" in argv
    rounds, seconds = (1, 3) if quick else (3, 15)
    connections = 32 if services else 16
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    database = Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL) if services else None
    if services:  # the CPU of MariaDB and Redis a request too, beside the workers' (one process each, local)
        loadgen.SERVICE_PIDS.update(_services())
    try:
        with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
            root = Path(tmp)
            ours_env = _deployment(root, database)
            peer_env = peer_deployment(root, database, ours_env.get("REDIS_URL", ""))
            per_round = _rounds(root, ours_env, peer_env, workers, rounds, connections, seconds)
            logged = _logged_transitions(ours_env["DATABASE_URL"])
            _forget_sessions(ours_env, peer_env)
    finally:
        if database is not None:
            database.drop()
    result = aggregate(per_round, "services" if services else "embedded")
    result |= {"rounds": rounds, "seconds": seconds, "connections": connections, "workers": workers,
               "mode": "MariaDB + Redis sessions" if services else "SQLite (WAL) + database sessions",
               "peer_versions": _peer_versions(), "db_check": _db_check(per_round, logged, connections)}
    report(result)
    return result


def _rounds(root: Path, ours_env: dict[str, str], peer_env: dict[str, str], workers: int, rounds: int,
            connections: int, seconds: int) -> list[dict[str, Any]]:
    per_round: list[dict[str, Any]] = []
    with gunicorn("bench.hello:app", {}, root / "hello.log", workers) as hello, \
            gunicorn("web.wsgi:app", ours_env, root / "ours.log", workers, ready_path="/healthz") as ours, \
            gunicorn("peer.wsgi:application", peer_env, root / "peer.log", workers, ready_path=PEER_PATH,
                     options=("--chdir", str(PEER_DIR)), python=PEER_PYTHON) as peer:
        servers = {"hello": hello, "ours": ours, "peer": peer}
        for index in range(rounds):
            print(f"round {index + 1}/{rounds}: load average {_load()}", file=sys.stderr)
            per_round.append(one_round(servers, root, index, connections, seconds))
            print(f"round {index + 1}/{rounds}: {_line(per_round[-1])}; load average {_load()}", file=sys.stderr)
    return per_round


def _services() -> dict[str, int]:
    """MariaDB's server (``mariadbd``, or ``mysqld`` before 10.5) and Redis's, by pid, each once."""
    found = loadgen.find_services("mariadbd", "mysqld", "redis-server")
    pids: dict[int, str] = {}
    for name, pid in found.items():
        pids.setdefault(pid, "redis" if name == "redis-server" else "mariadb")
    return {name: pid for pid, name in pids.items()}


def _forget_sessions(ours_env: dict[str, str], peer_env: dict[str, str]) -> None:
    """Services mode: the sessions both apps left in Redis, under the prefixes of this run."""
    if "REDIS_URL" not in ours_env:
        return
    import redis

    client = redis.Redis.from_url(ours_env["REDIS_URL"])
    for prefix in (ours_env["REDIS_PREFIX"], peer_env["PEER_REDIS_PREFIX"] + ":"):
        for key in client.scan_iter(match=prefix + "*", count=1000):
            client.delete(key)
    client.close()


def _db_check(per_round: list[dict[str, Any]], logged: int, connections: int) -> dict[str, Any]:
    """Ours: a log row per 303 counted and per visitor's first step, + one in flight a connection at most."""
    expected = sum(r["ours"]["extra"].get("ok", 0) for r in per_round) + len(per_round) * connections
    return {"logged_transitions": logged, "expected": expected,
            "matches": 0 <= logged - expected <= len(per_round) * connections,
            "peer_sessions_match": all(r["peer"]["session_check"]["matches"] for r in per_round)}


def _peer_versions() -> dict[str, str]:
    code = "import importlib.metadata as m; print(m.version('django'), m.version('django-formtools'))"
    done = subprocess.run([str(PEER_PYTHON), "-c", code], capture_output=True, text=True, check=True, timeout=60)
    django, formtools = done.stdout.split()
    return {"django": django, "django-formtools": formtools}


def aggregate(per_round: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Per app the median and spread of each figure; per round the ratios, then their median and spread."""
    figures = {"requests_per_s": ("requests_per_s",), "p50_ms": ("latency_ms", "p50"),
               "p90_ms": ("latency_ms", "p90"), "p99_ms": ("latency_ms", "p99"),
               "server_cpu_ms_per_request": ("server_cpu_ms_per_request",)}
    services = list(per_round[0]["ours"].get("service_cpu_ms_per_request", {}))
    figures |= {f"{name}_cpu_ms_per_request": ("service_cpu_ms_per_request", name) for name in services}
    if services:  # measured: the whole machine's CPU a request (workers + MariaDB + Redis)
        for r in per_round:
            for app in APPS:
                r[app]["total_cpu_ms_per_request"] = round(
                    r[app]["server_cpu_ms_per_request"] + sum(r[app]["service_cpu_ms_per_request"].values()), 3)
        figures["total_cpu_ms_per_request"] = ("total_cpu_ms_per_request",)
    apps = {app: {name: spread([_dig(r[app], keys) for r in per_round]) for name, keys in figures.items()}
            | {"errors_total": sum(r[app]["errors"] for r in per_round)} for app in APPS}
    ratios = {
        "cpu_ours_over_peer": spread([_cpu(r["ours"]) / _cpu(r["peer"]) for r in per_round]),
        "throughput_ours_over_peer": spread([_rps(r["ours"]) / _rps(r["peer"]) for r in per_round]),
        **({"total_cpu_ours_over_peer": spread([r["ours"]["total_cpu_ms_per_request"]
                                                / max(r["peer"]["total_cpu_ms_per_request"], 1e-9)
                                                for r in per_round])}
           if "total_cpu_ms_per_request" in figures else {}),
        "throughput_ours_over_hello": spread([_rps(r["ours"]) / _rps(r["hello"]) for r in per_round]),
        "throughput_peer_over_hello": spread([_rps(r["peer"]) / _rps(r["hello"]) for r in per_round]),
    }
    share, p99 = TARGETS[mode]
    targets = {"cpu_at_most_peer": ratios["cpu_ours_over_peer"]["median"] <= 1.0,
               f"ours_at_least_{share:.0%}_of_hello": ratios["throughput_ours_over_hello"]["median"] >= share,
               f"ours_p99_under_{p99:.0f}_ms": apps["ours"]["p99_ms"]["median"] < p99}
    return {"per_round": per_round, "summary": apps, "ratios": ratios, "targets": targets}


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def _dig(value: Any, keys: tuple[str, ...]) -> float:
    for key in keys:
        value = value[key]
    return float(value)


def _cpu(run: dict[str, Any]) -> float:
    return max(run["server_cpu_ms_per_request"], 1e-9)


def _rps(run: dict[str, Any]) -> float:
    return max(run["requests_per_s"], 1e-9)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _line(one: dict[str, Any]) -> str:
    return "; ".join(f"{app} {one[app]['requests_per_s']:.0f} req/s p99 {one[app]['latency_ms']['p99']} ms "
                     f"{one[app]['server_cpu_ms_per_request']:.2f} ms CPU{_services_line(one[app])} "
                     f"errors {one[app]['errors']}" for app in APPS)


def _services_line(run: dict[str, Any]) -> str:
    services = run.get("service_cpu_ms_per_request") or {}
    return "".join(f" + {name} {cpu:.2f}" for name, cpu in services.items())


def report(result: dict[str, Any]) -> None:
    versions = result["peer_versions"]
    print(f"wizard step beside django-formtools {versions['django-formtools']} (Django {versions['django']}) and "
          f"hello world ({result['mode']}): gunicorn {result['workers']} sync workers each, wrk "
          f"-t{result['connections']} -c{result['connections']} -d{result['seconds']}s, {result['rounds']} "
          f"alternating rounds; median (min-max)")
    for app, figures in result["summary"].items():
        cells = "  ".join(f"{name.removesuffix('_ms').removesuffix('_per_request')} {_fmt(f)}"
                          for name, f in figures.items() if isinstance(f, dict))
        print(f"  {app:5} {cells}  errors {figures['errors_total']}")
    for name, ratio in result["ratios"].items():
        print(f"  {name:27} {_fmt(ratio, 3)}")
    for name, met in result["targets"].items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    check = result["db_check"]
    print(f"  ours: {check['logged_transitions']} log rows for {check['expected']} steps answered (+ in flight): "
          f"{'consistent' if check['matches'] else 'INCONSISTENT'}; peer: sessions hold the last quantity "
          f"answered: {'consistent' if check['peer_sessions_match'] else 'INCONSISTENT'}")


def _fmt(figure: dict[str, float], digits: int = 2) -> str:
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}-{figure['max']:.{digits}f})"


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv[1:])
