"""Donations (issue #26): a Stripe webhook's handling time, and a tax receipt's generation time.

A throwaway deployment (SQLite, the stand-in provider of web/dev/payments.py, no Stripe key). ``N`` donations are
opened through the ledger; the stand-in signs one ``checkout.session.completed`` event for each, as Stripe does.
Each event is POSTed to ``/webhooks/stripe`` through the Flask test client (the whole WSGI chain: the signature
check by the stripe library, the ledger's transaction with its ceiling, its receipt number and the outbox row), in
rounds alternating with the peer: what a Python team would write instead, the same signature check
(``stripe.Webhook.construct_event``) and one ``INSERT`` of the event id in its own SQLite table, behind a bare Flask
route. The receipt mails the payments queue (detached outbox rows, made by a worker with a broker, by a thread of
the web process without one) are made after each round's timing, so the figure is the webhook's own work. Then
each event is POSTed again (a duplicate: answered from the ledger, nothing changes). Times are
wall-clock per request, median and p90 of each round, median over rounds, with the ratio ours/peer per round.

The receipt: ``receipt_pdf.render`` of a one-off receipt and of a monthly donor's 12-line yearly receipt (fpdf2,
fonts loaded per document), median of 50 each; and the outbox handler that mails it (PDF, base64, the mail row).

    python bench/donations.py [--events 300] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from harness import ROOT, create_tables, deployment_env, emit, machine, percentile

sys.path.insert(0, str(ROOT))

BENEFICIARY_LINES = ("1 rue de l’Exemple", "75001 Paris")


def _peer(secret: str, database: Path) -> Any:
    """A bare Flask app: verify with the stripe library, insert the event id, answer 200 (or 400)."""
    import sqlite3

    import stripe
    from flask import Flask, request

    connection = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT, body TEXT)")
    peer = Flask("peer")

    @peer.post("/webhook")
    def webhook() -> Any:
        payload = request.get_data()
        try:
            event = stripe.Webhook.construct_event(payload, request.headers.get("Stripe-Signature", ""), secret)
        except (ValueError, stripe.SignatureVerificationError):
            return "", 400
        connection.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?)", (event.id, event.type, payload))
        return {"received": True}

    return peer


def _parking(parked: list[tuple[Any, list[int]]]) -> Any:
    """A stand-in for `InProcessRelay._submit` that keeps the rows instead of running them."""

    def park(relay: Any, _executor: Any, ids: list[int]) -> None:
        parked.append((relay, ids))

    return park


def _timed(client: Any, path: str, events: list[tuple[bytes, str]]) -> list[float]:
    samples = []
    for body, signature in events:
        started = time.perf_counter()
        response = client.post(path, data=body, headers={"Stripe-Signature": signature,
                                                         "Content-Type": "application/json"})
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
    return samples


def _events(app: Any, count: int, prefix: str) -> list[tuple[bytes, str]]:
    """``count`` donations opened through the ledger, and a signed ``checkout.session.completed`` for each."""
    from engagement.db import transaction, utcnow
    from engagement.donations import service
    from engagement.donations.service import Donor

    core, fake = app.extensions["engagement"], app.extensions["dev_stripe"]
    fake.deliver = None  # the benchmark posts the events itself
    signed = []
    now = utcnow()
    for n in range(count):
        donor = Donor(first_name=f"Prénom{n}", last_name="Bench", email=f"bench{n}@example.org",
                      street=f"{n} rue de Rivoli", postal_code="75004", city_code="75104",
                      city_name="Paris 4e Arrondissement", attestation="national")
        with transaction(core.sessions) as session:
            donation = service.open_donation(session, donor, amount_cents=5_000, now=now)
            reference = donation.reference
        event = {"id": f"evt_{prefix}_{n}", "object": "event", "type": "checkout.session.completed",
                 "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
                 "data": {"object": {"id": f"cs_{prefix}_{n}", "object": "checkout.session", "mode": "payment",
                                     "status": "complete", "payment_status": "paid", "amount_total": 5_000,
                                     "currency": "eur", "client_reference_id": reference,
                                     "metadata": {"reference": reference}, "payment_intent": f"pi_{prefix}_{n}",
                                     "subscription": None, "invoice": None}}}
        body = json.dumps(event).encode()
        signed.append((body, fake.sign(body)))
    return signed


def _receipts(app: Any, samples: int) -> dict[str, Any]:
    from sqlalchemy import select

    from engagement.donations import mails
    from engagement.donations.documents import Beneficiary, ReceiptData, ReceiptLine
    from engagement.donations.models import Receipt
    from engagement.donations.receipt_pdf import render

    beneficiary = Beneficiary("Association de financement du mouvement Engagement", BENEFICIARY_LINES,
                              "Agrément CNCCFP", "Camille Martin")
    one = ReceiptData(number="2026-000001", issued_on=date(2026, 12, 7), kind="gift", first_name="Zoé",
                      last_name="N’Diaye-Lefèvre", address=("12 rue de Rivoli", "75004 Paris"),
                      lines=(ReceiptLine(date(2026, 12, 7), 5_000),), beneficiary=beneficiary)
    yearly = ReceiptData(number="2026-000002", issued_on=date(2027, 1, 2), kind="gift", first_name="Zoé",
                         last_name="N’Diaye-Lefèvre", address=("12 rue de Rivoli", "75004 Paris"),
                         lines=tuple(ReceiptLine(date(2026, month, 5), 2_000) for month in range(1, 13)),
                         beneficiary=beneficiary)
    result: dict[str, Any] = {}
    for name, data in (("one_off", one), ("yearly_12_lines", yearly)):
        times, size = [], 0
        for _ in range(samples):
            started = time.perf_counter()
            size = len(render(data))
            times.append(time.perf_counter() - started)
        result[name] = {"median_ms": round(statistics.median(times) * 1000, 1),
                        "p90_ms": round(percentile(times, 0.9) * 1000, 1), "bytes": size}
    core = app.extensions["engagement"]
    with core.sessions() as session:
        ids = session.scalars(select(Receipt.id).where(Receipt.mailed_at.is_(None)).limit(samples)).all()
    times = []
    for receipt_id in ids:
        started = time.perf_counter()
        mails.mail_receipt(core.sessions, {"receipt_id": receipt_id})
        times.append(time.perf_counter() - started)
    if times:
        result["mail_handler"] = {"median_ms": round(statistics.median(times) * 1000, 1),
                                  "p90_ms": round(percentile(times, 0.9) * 1000, 1), "receipts": len(times)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receipts", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-donations-") as tmp:
        root = Path(tmp)
        env = deployment_env(root, ROOT / "workflows")
        os.environ.update(env)
        from engagement.config import load_settings
        from engagement.outbox import InProcessRelay
        from web.app import create_app

        create_tables(env["DATABASE_URL"])
        app = create_app(load_settings(env))
        InProcessRelay.drain()
        client = app.test_client()
        peer = _peer(app.extensions["dev_stripe"].webhook_secret, root / "peer.db").test_client()
        rounds = []
        fake = app.extensions["dev_stripe"]
        for number in range(args.rounds):
            events = _events(app, args.events, f"r{number}")
            peer_events = [(body.replace(b'"evt_r', b'"evt_peer_r'), "") for body, _ in events]
            peer_events = [(body, fake.sign(body)) for body, _ in peer_events]
            parked: list[tuple[Any, list[int]]] = []  # the receipts' mails, made after the timing (as by a worker)
            submit = InProcessRelay._submit
            InProcessRelay._submit = _parking(parked)  # type: ignore[method-assign]
            try:
                ours = _timed(client, "/webhooks/stripe", events)
            finally:
                InProcessRelay._submit = submit  # type: ignore[method-assign]
            theirs = _timed(peer, "/webhook", peer_events)
            for relay, ids in parked:
                relay.run(ids)
            rounds.append({"ours_ms": round(statistics.median(ours) * 1000, 3),
                           "ours_p90_ms": round(percentile(ours, 0.9) * 1000, 3),
                           "peer_ms": round(statistics.median(theirs) * 1000, 3),
                           "peer_p90_ms": round(percentile(theirs, 0.9) * 1000, 3)})
            InProcessRelay.drain()
        for run in rounds:
            run["ratio"] = round(run["ours_ms"] / run["peer_ms"], 2)
        duplicates = _timed(client, "/webhooks/stripe", events[: min(100, len(events))])
        receipts = _receipts(app, args.receipts)
        InProcessRelay.drain()
        result = {
            "machine": machine(), "events_per_round": args.events, "rounds": rounds,
            "webhook_ms": statistics.median(r["ours_ms"] for r in rounds),
            "peer_ms": statistics.median(r["peer_ms"] for r in rounds),
            "ratio_median": statistics.median(r["ratio"] for r in rounds),
            "ratio_spread": [min(r["ratio"] for r in rounds), max(r["ratio"] for r in rounds)],
            "duplicate_ms": round(statistics.median(duplicates) * 1000, 3),
            "receipts": receipts,
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
        emit(result, sys.argv)
        app.extensions["engagement"].engine.dispose()


if __name__ == "__main__":
    main()
