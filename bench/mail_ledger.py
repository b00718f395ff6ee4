"""The Mailjet delivery path alone (issue #6, partial): stored messages sent through the delivery
ledger and the real ``mailjet-rest`` client to the loopback fake, in calls of 50, on SQLite.

It times ``engagement.mail.delivery.deliver`` over N queued messages (claim committed, calls of
50, outcomes recorded) in one process, and, for scale, the real client alone posting the same
batches to the same fake. Not yet the issue's end-to-end figure (a campaign through RabbitMQ and
worker processes): that comes with campaigns.

    python bench/mail_ledger.py [--messages N] [--runs R] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, create_tables, deployment_env, emit

sys.path.insert(0, str(ROOT))

from tests.fakes.mailjet import FakeMailjet  # the fake lives with the tests


def run(messages: int) -> dict[str, float]:
    from mailjet_rest import Client
    from sqlalchemy import select

    from engagement.db import make_engine, make_session_factory, transaction
    from engagement.mail import service as mail
    from engagement.mail.delivery import deliver
    from engagement.mail.mailjet import MailjetTransport, payload
    from engagement.mail.models import MailMessage

    with tempfile.TemporaryDirectory() as tmp, FakeMailjet() as fake:
        env = deployment_env(Path(tmp), Path(tmp))
        create_tables(env["DATABASE_URL"])
        engine = make_engine(env["DATABASE_URL"])
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            rows = [mail.compose(session, to=[f"person{n}@example.org"], subject="Objet", body="Un message " * 40,
                                 context={}, locale="fr", literal=True) for n in range(messages)]
            ids = [row.id for row in rows]
        transport = MailjetTransport(fake.api_key, fake.api_secret, fake.url)
        started = time.perf_counter()
        deliver(factory, transport, ids, "mailjet")
        ledger = time.perf_counter() - started
        assert len(set(fake.custom_ids())) == messages
        with factory() as session:
            stored = [payload(m) for m in session.scalars(select(MailMessage).limit(messages))]
        client = Client(auth=(fake.api_key, fake.api_secret), version="v3.1", api_url=fake.url)
        started = time.perf_counter()
        for start in range(0, len(stored), 50):
            client.send.create(data={"Messages": stored[start:start + 50]}, timeout=15)
        alone = time.perf_counter() - started
        engine.dispose()
    return {"ledger_messages_per_s": messages / ledger, "client_alone_messages_per_s": messages / alone}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--quick", action="store_true", help="500 messages, one run (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.runs = 500, 1
    runs = [run(args.messages) for _ in range(args.runs)]
    result = {"messages": args.messages, "runs": runs,
              "median": {key: statistics.median(r[key] for r in runs) for key in runs[0]}}
    print(f"{args.messages} messages, median of {args.runs} runs: "
          f"ledger {result['median']['ledger_messages_per_s']:.0f} msg/s, "
          f"client alone {result['median']['client_alone_messages_per_s']:.0f} msg/s")
    emit(result, sys.argv)


if __name__ == "__main__":
    main()
