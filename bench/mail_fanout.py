"""A campaign to 45,000 members, end to end (issue #6): the organizer's request, then RabbitMQ,
Celery worker processes on the ``campaigns`` queue, MariaDB, and the real ``mailjet-rest`` client
posting to the loopback fake Mailjet, until every message is there.

    python bench/mail_fanout.py [--recipients N] [--runs R] [--workers W] [--concurrency C]
                                [--kill] [--quick] [--db-prefix P] [--json out.json]

Needs MariaDB and RabbitMQ: ``DATABASE_URL`` (a MySQL URL; a throwaway database is created next to
it) and ``CELERY_BROKER_URL``; without them it defaults to the local services of the CI machine and
says so when they do not answer. ``--kill`` SIGKILLs the workers half-way and starts them again
(the figure is then the recovery's, not the speed's). Every run checks that the fake received each
recipient exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import LOCAL_MYSQL, ROOT, Database, emit

sys.path.insert(0, str(ROOT))

from tests.fakes.mailjet import FakeMailjet  # the fake lives with the tests

LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def pids_of(name: str) -> list[int]:
    done = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False)
    return [int(p) for p in done.stdout.split()]


def add_members(url: str, count: int) -> None:
    """``count`` activated members of Paris (75), in bulk (the organizer is made with the app)."""
    from sqlalchemy import create_engine, insert

    from engagement.accounts.models import User
    from engagement.db import utcnow

    engine = create_engine(url)
    now = utcnow()
    address = {"street": "1 rue de Rivoli", "postal_code": "75001", "city": "75101", "city_name": "Paris 1er",
               "country": "FR"}
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(insert(User), [
                {"email": f"member{n:06d}@example.org", "first_name": "Camille", "last_name": f"N{n}",
                 "role": "member", "is_active": True, "activated_at": now, "created_at": now,
                 "address": address, "department": "75", "interests": [], "has_newsletter": False}
                for n in range(start, min(count, start + 5000))])
    engine.dispose()


def start_workers(env: dict[str, str], count: int, concurrency: int, log: Path) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-Q", "campaigns",
               "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    with log.open("ab") as out:
        return [subprocess.Popen([*command, "-n", f"fanout{i}-{uuid.uuid4().hex[:6]}@%h"], env=env, cwd=ROOT,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                for i in range(count)]


def kill(workers: list[subprocess.Popen[bytes]], sig: int) -> None:
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, sig)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def organizer_request(env: dict[str, str], recipients: int) -> Callable[[], tuple[float, int]]:
    """The organizer's send request through the real app (test client, CSRF on): the app, the organizer's
    log-in, the draft and its confirmation page are made now (before the clock and the CPU readings); the
    function returned posts the confirmation, which queues the campaign: (seconds, campaign id). The
    recipients are counted by the expansion, checked at the end of the run."""
    from engagement.campaigns.models import Campaign
    from engagement.config import load_settings
    from tests.conftest import FormClient
    from tests.functional.campaign_steps import compose, draft_id
    from tests.functional.invitation_steps import log_in, make_user
    from web.app import create_app

    app = create_app(load_settings(env))
    core = app.extensions["engagement"]
    make_user(app, "organisatrice@example.org", role="organizer", first_name="Claire", last_name="Dupont")
    client = FormClient(app.test_client())
    log_in(client, "organisatrice@example.org")
    number = draft_id(compose(client, audience="department:75", subject="Samedi, tous au marché",
                              body="Bonjour,\n\nRendez-vous samedi à 10 h.\n\nÀ samedi !", sender_name="Claire Dupont"))
    client.get(f"/organizer/campaigns/{number}/confirm")
    form = {"audience": client.hidden("audience"), "confirm": "y", "send_at": ""}

    def send() -> tuple[float, int]:
        started = time.perf_counter()
        response = client.post(f"/organizer/campaigns/{number}/confirm", form)
        elapsed = time.perf_counter() - started
        assert response.status_code == 303, response.status_code
        with core.sessions() as session:
            assert session.get(Campaign, number).status == "queued"
        core.engine.dispose()
        return elapsed, number

    return send


def direct_request(env: dict[str, str], recipients: int) -> Callable[[], tuple[float, int]]:
    """What the command line does, without the web layer: the campaign (counted) and its outbox row."""
    from engagement.campaigns import service
    from engagement.config import load_settings
    from engagement.core import bootstrap
    from engagement.db import transaction
    from workers.dispatch import CeleryRelay

    core = bootstrap(load_settings(env), CeleryRelay)

    def send() -> tuple[float, int]:
        started = time.perf_counter()
        with transaction(core.sessions) as session:
            campaign = service.create(session, audience="department:75", subject="Samedi",
                                      body="Rendez-vous samedi.", author=None)
        elapsed = time.perf_counter() - started
        assert campaign.recipients == recipients  # the command line counts (its output says how many)
        core.engine.dispose()
        return elapsed, campaign.id

    return send


def run(recipients: int, workers: int, concurrency: int, do_kill: bool, work: Path,
        direct: bool = False, prefix: str = "engagement_bench") -> dict[str, Any]:
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from engagement.campaigns.models import Campaign
    from engagement.mail.mailjet import custom_id
    from engagement.mail.models import MailMessage

    database = Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL, prefix=prefix)
    broker = os.environ["CELERY_BROKER_URL"]
    log = Path(os.environ.get("FANOUT_LOG") or work / "workers.log")
    cleanup: list[Any] = []  # whatever happens, no worker outlives the run (it would eat the next run's tasks)
    try:
        add_members(database.url, recipients)
        with FakeMailjet() as fake:
            env = {**os.environ, "ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(work / "instance"),
                   "SECRET_KEY": "bench-" + uuid.uuid4().hex, "DATABASE_URL": database.url,
                   "CELERY_BROKER_URL": broker, "MAIL_BACKEND": "mailjet", "MAILJET_API_KEY": fake.api_key,
                   "MAILJET_API_SECRET": fake.api_secret, "MAILJET_API_URL": fake.url,
                   "MAIL_CLAIM_LEASE": "10", "ENGAGEMENT_WORKFLOWS_DIR": str(ROOT / "workflows")}
            env.pop("REDIS_URL", None)
            subprocess.run([sys.executable, "-m", "celery", "-A", "workers.app", "purge", "-f", "-Q", "campaigns"],
                           env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
            pool = start_workers(env, workers, concurrency, log)
            cleanup.append(functools.partial(kill, pool, signal.SIGKILL))
            send = (direct_request if direct else organizer_request)(env, recipients)
            time.sleep(4)  # the workers connect and fork their pool before the clock starts
            watched = {"mariadbd": pids_of("mariadbd"), "rabbitmq": pids_of("beam.smp")}
            before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in watched.items()}
            worker_pids = [c for w in pool for c in children(w.pid)] + [w.pid for w in pool]
            before["workers"] = sum(cpu_seconds(p) for p in worker_pids)
            before["bench (fake Mailjet, app)"] = cpu_seconds(os.getpid())
            started, queued_at = time.perf_counter(), datetime.now(UTC)
            request_s, campaign_id = send()
            killed_at = None
            deadline = started + 600
            while len(fake.messages) < recipients and time.perf_counter() < deadline:
                if do_kill and killed_at is None and len(fake.messages) >= recipients // 2:
                    killed_at = len(fake.messages)
                    kill(pool, signal.SIGKILL)
                    pool = start_workers(env, workers, concurrency, log)
                    cleanup.append(functools.partial(kill, pool, signal.SIGKILL))
                    worker_pids += [c for w in pool for c in children(w.pid)] + [w.pid for w in pool]
                time.sleep(0.05)
                if os.environ.get("FANOUT_DEBUG"):
                    print(len(fake.messages), fake.calls, flush=True)
            arrived = time.perf_counter() - started
            worker_pids += [c for w in pool for c in children(w.pid)]
            after = {name: sum(cpu_seconds(p) for p in pids) for name, pids in watched.items()}
            after["workers"] = sum(cpu_seconds(p) for p in set(worker_pids))
            after["bench (fake Mailjet, app)"] = cpu_seconds(os.getpid())
            time.sleep(1.0)  # anything sent twice would arrive now
            engine = create_engine(database.url)
            with Session(engine) as session:
                campaign = session.get(Campaign, campaign_id)
                expansion_s = ((campaign.expanded_at - queued_at).total_seconds()  # the draft was written before
                               if campaign.expanded_at else None)
                counted = campaign.recipients if campaign.counted_at is not None else None
                ids = list(session.scalars(select(MailMessage.id).where(MailMessage.campaign_id == campaign_id)))
                sent = session.scalar(select(func.count()).select_from(MailMessage).where(
                    MailMessage.campaign_id == campaign_id, MailMessage.status == "sent"))
            engine.dispose()
            received = fake.custom_ids()
            kill(pool, signal.SIGTERM)
            exact = (sorted(received) == sorted(custom_id(i) for i in ids) and len(ids) == recipients
                     and counted == recipients)
            cpu = {name: round(after[name] - before[name], 2) for name in after}
            return {"recipients": recipients, "request_ms": round(request_s * 1000, 1), "counted": counted,
                    "cpu_ms_per_message": round(sum(cpu.values()) * 1000 / recipients, 3),
                    "worker_cpu_ms_per_message": round(cpu["workers"] * 1000 / recipients, 3),
                    "end_to_end_s": round(arrived, 2), "messages_per_s": round(recipients / arrived),
                    "expansion_s": round(expansion_s, 2) if expansion_s is not None else None,
                    "received": len(received), "distinct": len(set(received)), "sent_rows": sent,
                    "exactly_once": exact, "calls": fake.calls, "killed_at": killed_at,
                    "cpu_s": cpu}
    finally:
        for undo in cleanup:
            undo()
        database.drop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=45_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each with its own pool)")
    parser.add_argument("--concurrency", type=int, default=3, help="pool processes a worker")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the workers half-way, then restart them")
    parser.add_argument("--direct", action="store_true", help="queue through the service, not the web page")
    parser.add_argument("--db-prefix", default="engagement_bench", help="the throwaway database's name prefix")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="2,000 recipients, one run (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.recipients, args.runs = 2000, 1
    # Before workers.app is imported: its Celery app reads the broker once, from the environment.
    os.environ.setdefault("CELERY_BROKER_URL", LOCAL_BROKER)
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(run(args.recipients, args.workers, args.concurrency, args.kill, Path(tmp), args.direct,
                            args.db_prefix))
        print(runs[-1], flush=True)
    median = {key: statistics.median(r[key] for r in runs)
              for key in ("request_ms", "end_to_end_s", "messages_per_s", "cpu_ms_per_message",
                          "worker_cpu_ms_per_message")}
    result = {"recipients": args.recipients, "workers": args.workers, "concurrency": args.concurrency,
              "kill": args.kill, "runs": runs, "median": median}
    print(f"{args.recipients} recipients, median of {args.runs}: request {median['request_ms']} ms, "
          f"end to end {median['end_to_end_s']} s ({median['messages_per_s']} msg/s); CPU "
          f"{median['cpu_ms_per_message']} ms a message (workers {median['worker_cpu_ms_per_message']} ms); "
          f"exactly once in every run: {all(r['exactly_once'] for r in runs)}")
    emit(result, sys.argv)


if __name__ == "__main__":
    main()
