"""Issue #23, finding 2: do the rate limits hold whichever gunicorn worker answers?

The real application under gunicorn (2 sync workers, `engagement serve`'s settings from web/gunicorn_conf.py)
on a fresh SQLite deployment, embedded (counters in the database) and, with ``--redis URL``, in Redis.
  - the login lock: each run is one client (its own loopback address) failing on its own account until the
    page says it is locked; the try at which that comes, over ``--runs`` runs (the rule: the 6th);
  - invitations: one client sends invitations (every one to another friend, from another sender address)
    until one is refused; how many were accepted (the rule: 10 an hour);
  - which worker answered (gunicorn's access log, with its pid): both must have;
  - the cost of one counter hit in process (`FixedWindowRateLimiter.hit`), median in microseconds, on this
    process's memory (before), the database's counters on SQLite (and MariaDB with ``--mariadb``), Redis.

    python bench/rate_limits.py [--runs 10] [--hits 2000] [--redis redis://127.0.0.1:6379/2] [--mariadb]
                                [--quick] [--json out.json]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from harness import LOCAL_MYSQL, ROOT, Database, create_tables, deployment_env, emit, machine
from loadgen import gunicorn

sys.path.insert(0, str(ROOT))  # the live test's browser and the invitation steps (tests/)
from tests.conftest import FormClient
from tests.functional.invitation_steps import PASSWORD, send, start_again, to_summary
from tests.functional.test_rate_limits_live import ACCESS_FORMAT, ACCESS_LINE, Browser, attempt

MAX_TRIES = 15


def lock_tries(base: str, database_url: str, runs: int) -> list[str | None]:
    """For each run, the try (1-based) whose answer said "locked"; None if none did within MAX_TRIES."""
    from engagement.accounts.service import create_user
    from engagement.db import make_engine, make_session_factory, transaction

    emails = [f"lou{run}-{uuid.uuid4().hex[:6]}@example.org" for run in range(runs)]
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        for email in emails:
            create_user(session, email, password=PASSWORD)
    engine.dispose()
    return [_locked_at(FormClient(Browser(base, f"127.0.1.{run + 1}")), email) for run, email in enumerate(emails)]


def _locked_at(client: FormClient, email: str) -> str | None:
    """The try answered "locked" ("N (429)" when the form's own limit, 10 a minute, answered first)."""
    for number in range(1, MAX_TRIES + 1):
        try:
            if attempt(client, email, "not the password at all") == "locked":
                return str(number)
        except AssertionError:  # not a 422: the route's limit answered 429
            return f"{number} (429)"
    return None


def invitations_accepted(base: str, limit: int = 20) -> int:
    """Invitations one client sends before the first refusal (each to another friend, from another sender)."""
    client = FormClient(Browser(base, "127.0.2.1"))
    for number in range(limit):
        if number:
            start_again(client)
        to_summary(client)
        if send(client, friend_email=f"friend{number}@example.net",
                self_email=f"sender{number}@example.org").status_code != 303:
            return number
    return limit


def answered_by(log: Path) -> dict[str, dict[str, int]]:
    """Requests each worker answered, for the two forms: {path: {pid: count}}."""
    found = (ACCESS_LINE.search(line) for line in log.read_text().splitlines())
    spread: dict[str, Counter[str]] = {"/login": Counter(), "/w/invitation": Counter()}
    for match in found:
        if match and match.group(2) == "POST" and match.group(3) in spread:
            spread[match.group(3)][match.group(1)] += 1
    return {path: dict(counts) for path, counts in spread.items()}


def live(mode: str, redis_url: str | None, runs: int, work: Path) -> dict[str, Any]:
    """The server of one mode: lock tries, invitations, the workers' spread."""
    root = work / mode
    env = deployment_env(root, ROOT / "workflows")
    if redis_url:
        env.update(REDIS_URL=redis_url, REDIS_PREFIX=f"bench-{uuid.uuid4().hex[:8]}:")
    root.mkdir(parents=True)
    create_tables(env["DATABASE_URL"])
    log = root / "server.log"
    options = ("--config", "python:web.gunicorn_conf", "--access-logfile", "-", "--access-logformat", ACCESS_FORMAT)
    with gunicorn("web.wsgi:app", env, log, workers=2, ready_path="/healthz", options=options) as server:
        tries = lock_tries(server.base, env["DATABASE_URL"], runs)
        accepted = invitations_accepted(server.base)
        time.sleep(0.5)  # the access log's last lines
        return {"lock_at_try": tries, "invitations_accepted": accepted, "answered_by": answered_by(log)}


def hit_cost(storage_uri: str, options: dict[str, Any], hits: int) -> float:
    """Median microseconds of one `FixedWindowRateLimiter.hit` (over 100 keys, as many clients)."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    import web.limits  # noqa: F401 - registers the engagement-db:// storage

    limiter = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
    item = parse("1000000 per hour")
    samples = []
    for n in range(hits):
        started = time.perf_counter()
        limiter.hit(item, "bench", str(n % 100))
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1e6, 1)


def costs(hits: int, redis_url: str | None, mariadb: bool, work: Path) -> dict[str, float]:
    from engagement.db import make_engine
    from engagement.ratelimits import counters_engine

    found = {"memory (per process, before)": hit_cost("memory://", {}, hits)}
    sqlite = f"sqlite:///{work / 'costs.db'}"
    create_tables(sqlite)
    found["database: SQLite file"] = hit_cost("engagement-db://", {"engine": counters_engine(make_engine(sqlite))},
                                              hits)
    if mariadb:
        with Database(LOCAL_MYSQL) as database:
            found["database: MariaDB"] = hit_cost("engagement-db://", {"engine": make_engine(database.url)}, hits)
    if redis_url:
        found["Redis"] = hit_cost(redis_url, {"key_prefix": f"bench-{uuid.uuid4().hex[:8]}:"}, hits)
    return found


def _option(argv: list[str], name: str, default: str | None) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv: list[str]) -> dict[str, Any]:
    quick = "--quick" in argv
    runs = int(_option(argv, "--runs", "2" if quick else "10") or 10)
    hits = int(_option(argv, "--hits", "200" if quick else "2000") or 2000)
    redis_url = _option(argv, "--redis", None)
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as temp:
        work = Path(temp)
        result: dict[str, Any] = {"machine": machine(), "runs": runs, "hits": hits,
                                  "embedded": live("embedded", None, runs, work)}
        if redis_url:
            result["redis"] = live("redis", redis_url, runs, work)
        result["hit_cost_us"] = costs(hits, redis_url, "--mariadb" in argv, work)
    return result


def report(result: dict[str, Any]) -> None:
    for mode in ("embedded", "redis"):
        if mode in result:
            seen = result[mode]
            print(f"{mode}: login lock at try {seen['lock_at_try']} ({result['runs']} runs); "
                  f"invitations accepted from one client: {seen['invitations_accepted']}; "
                  f"POSTs answered by worker pid: {seen['answered_by']}")
    for name, micros in result["hit_cost_us"].items():
        print(f"one counter hit, {name}: {micros} us (median of {result['hits']})")


if __name__ == "__main__":
    outcome = main(sys.argv[1:])
    report(outcome)
    emit(outcome, sys.argv[1:])
