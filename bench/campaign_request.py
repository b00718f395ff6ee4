"""The organizer's campaign request alone, at 45,000 and 500,000 members (issue #24): the confirmation's
POST (the one that queues the campaign) and the confirmation page before it, through the real app.

    python bench/campaign_request.py [--members 45000,500000] [--runs 5] [--db-prefix P] [--json out.json]
                                     [--quick]

For each size: a throwaway MariaDB database (beside ``DATABASE_URL``, else the CI machine's local
server) gets that many activated members of Paris (75), in bulk INSERTs, and a national organizer,
and department 75's audience list is built (as the ``lists`` queue keeps it). Each run writes a
draft to ``department:75`` (not timed), opens its confirmation page (timed: ``page``) and posts the
confirmation (timed: ``post``) through the Flask test client (session cookie, CSRF on). The outbox
relay is replaced by one that only records the ids handed to it, so no expansion runs in the
background during the runs (the broker's publish is in ``bench/mail_fanout.py``'s request figure).
Wall-clock medians, the CPU of this process (app and client) and of MariaDB per request.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import LOCAL_MYSQL, ROOT, Database, emit

sys.path.insert(0, str(ROOT))

TICKS = os.sysconf("SC_CLK_TCK")


def mariadb_cpu() -> float:
    """User + system CPU seconds of the MariaDB server (0 when it cannot be read)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(mariadbd)" in text or "(mysqld)" in text:
            total += sum(int(v) for v in text.rsplit(")", 1)[1].split()[11:13]) / TICKS
    return total


def seed(url: str, count: int) -> None:
    """``count`` activated members of Paris (75) who asked for the newsletter, 10,000 to an INSERT."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            rows = ",".join(f"('member{n:07d}@example.org','Camille','N{n}','member',1,NOW(),NOW(),'75','[]',1,0)"
                            for n in range(start, min(count, start + 10_000)))
            conn.execute(text("INSERT INTO users (email, first_name, last_name, role, is_active, activated_at, "
                              "created_at, department, interests, has_newsletter, can_see_personal_data) VALUES "
                              + rows))
    engine.dispose()


class Recorder:
    """A relay that keeps the ids it is handed (nothing is delivered)."""

    def __init__(self, _factory: Any) -> None:
        self.ids: list[int] = []

    def __call__(self, ids: list[int], queue: str = "transactional", detached: bool = False) -> None:
        self.ids.extend(ids)


def measure(url: str, members: int, runs: int, work: Path) -> dict[str, Any]:
    from sqlalchemy import event

    import web.app
    from engagement.campaigns import lists
    from engagement.campaigns.models import Campaign
    from engagement.config import load_settings
    from tests.conftest import FormClient
    from tests.functional.campaign_steps import compose, draft_id
    from tests.functional.invitation_steps import log_in, make_user

    env = {**os.environ, "ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(work / "instance"),
           "SECRET_KEY": "bench-request-secret", "DATABASE_URL": url,
           "ENGAGEMENT_WORKFLOWS_DIR": str(ROOT / "workflows")}
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    web.app.relay_factory = lambda _settings: Recorder  # type: ignore[attr-defined]
    app = web.app.create_app(load_settings(env))
    core = app.extensions["engagement"]
    lists.build(core.sessions, lists.department_key("75"))
    make_user(app, "organisatrice@example.org", role="organizer", first_name="Claire", last_name="Dupont")
    client = FormClient(app.test_client())
    log_in(client, "organisatrice@example.org")
    page_ms, post_ms, post_cpu, post_db, page_cpu = [], [], [], [], []
    shown, sent = "", []
    event.listen(core.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: sent.append(statement))
    for _ in range(runs):
        number = draft_id(compose(client, audience="department:75"))
        cpu, started = time.process_time(), time.perf_counter()
        client.get(f"/organizer/campaigns/{number}/confirm")
        page_ms.append((time.perf_counter() - started) * 1000)
        page_cpu.append((time.process_time() - cpu) * 1000)
        found = re.search(r'<p class="confirm-count">(.*?)</p>', client.last_html, re.S)
        shown = found.group(1).strip() if found else "?"
        fields = {name: client.hidden(name) for name in ("count", "audience") if f'name="{name}"' in client.last_html}
        sent.clear()
        db_before, cpu, started = mariadb_cpu(), time.process_time(), time.perf_counter()
        response = client.post(f"/organizer/campaigns/{number}/confirm", {**fields, "confirm": "y", "send_at": ""})
        post_ms.append((time.perf_counter() - started) * 1000)
        post_cpu.append((time.process_time() - cpu) * 1000)
        post_db.append((mariadb_cpu() - db_before) * 1000)
        assert response.status_code == 303, (response.status_code, client.last_html[:500])
        statements, counts = len(sent), sum("count(" in s.lower() for s in sent)
        with core.sessions() as session:
            assert session.get(Campaign, number).status == "queued"
    core.engine.dispose()

    def stats(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
                "max": round(max(values), 1)}

    return {"members": members, "runs": runs, "confirmation_shows": shown, "post_statements": statements,
            "post_counts": counts, "post_ms": stats(post_ms),
            "post_cpu_ms": stats(post_cpu), "post_mariadb_cpu_ms": stats(post_db), "page_ms": stats(page_ms),
            "page_cpu_ms": stats(page_cpu)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", default="45000,500000", help="comma-separated audience sizes")
    parser.add_argument("--runs", type=int, default=5, help="confirmations a size (at most 9: the hourly limit)")
    parser.add_argument("--db-prefix", default="engagement_bench", help="the throwaway database's name prefix")
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="2,000 members, 3 runs")
    args = parser.parse_args()
    sizes = [2000] if args.quick else [int(s) for s in args.members.split(",")]
    runs = 3 if args.quick else min(args.runs, 9)
    results = []
    for members in sizes:
        with Database(os.environ.get("DATABASE_URL") or LOCAL_MYSQL, prefix=args.db_prefix) as database, \
                tempfile.TemporaryDirectory(prefix="campaign-request-") as tmp:
            started = time.perf_counter()
            seed(database.url, members)
            print(f"{members} members seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            results.append(measure(database.url, members, runs, Path(tmp)))
        row = results[-1]
        print(f"{members} members: POST confirm {row['post_ms']['median']} ms (CPU {row['post_cpu_ms']['median']} ms "
              f"app, {row['post_mariadb_cpu_ms']['median']} ms MariaDB); confirmation page {row['page_ms']['median']} "
              f"ms; shows {row['confirmation_shows']!r}; the POST sent {row['post_statements']} SQL statements, "
              f"{row['post_counts']} of them counting", flush=True)
    emit({"results": results, "load_average": os.getloadavg()}, sys.argv)


if __name__ == "__main__":
    main()
