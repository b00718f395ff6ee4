"""The treasurer's area (/tresorerie): who may see it, the month totals and the payments against a hand count, the
CNCCFP's yearly list (CSV), a refund asked of a loopback fake Stripe and confirmed by its webhook, a provider's
refusal, and the access log of every page showing donors."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction, utcnow
from engagement.donations import service
from engagement.donations.documents import Beneficiary
from engagement.donations.models import DonationPayment
from engagement.donations.payments import Payments
from engagement.donations.service import Donor
from engagement.payments.events import PaymentEvent
from engagement.privacy.models import DataAccess, DataAccessSubject
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user

BENEFICIARY = Beneficiary("Association de financement", ("1 rue X", "75001 Paris"), "Agrément n° 0", "Camille")
PAGES = ("/tresorerie", "/tresorerie/paiements", "/tresorerie/export/2026.csv")
_ids = count(1)


def donor(first: str, last: str, user_id: int | None = None) -> Donor:
    return Donor(first_name=first, last_name=last, email=f"{first.lower()}@example.org", street="3 rue du Bac",
                 postal_code="75007", city_code="75107", city_name="Paris 7e Arrondissement", attestation="resident",
                 user_id=user_id)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def apply(factory: sessionmaker[Session], kind: str, when: datetime, **fields: Any) -> None:
    with transaction(factory) as session:
        service.apply(session, PaymentEvent(id=f"evt_f{next(_ids)}", kind=kind, occurred_at=when,  # type: ignore
                                            **fields), when, BENEFICIARY)


def give(factory: sessionmaker[Session], who: Donor, cents: int, when: datetime, payment_id: str,
         kind: str = "gift") -> None:
    with transaction(factory) as session:
        reference = service.open_donation(session, who, amount_cents=cents, kind=kind, now=when).reference
    apply(factory, "paid", when, reference=reference, payment_id=payment_id, amount_cents=cents)


@pytest.fixture
def browser(app: Any, new_client: Any) -> Any:
    def open_as(role: str) -> Any:
        email = f"{role}@example.org"
        make_user(app, email, role=role)
        opened = new_client()
        log_in(opened, email)
        opened.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
        return opened

    return open_as


@pytest.fixture
def arranged(app: Any, factory: sessionmaker[Session]) -> int:
    """March 2026: Léa (a member) 50 €, a 20 € fee from « =SOMME(A1:A9) »; April: Léa 100 €, 40 € refunded.
    Léa's member id."""
    lea = make_user(app, "lea@example.org", first_name="Léa", last_name="Martin")
    give(factory, donor("Léa", "Martin", lea), 5000, at(2026, 3, 2, 10), "pi_lea1")
    give(factory, donor("Hugo", "=SOMME(A1:A9)"), 2000, at(2026, 3, 5, 10), "pi_formula", kind="membership")
    give(factory, donor("Léa", "Martin", lea), 10000, at(2026, 4, 9, 10), "pi_lea2")
    apply(factory, "refunded", at(2026, 4, 10), payment_id="pi_lea2", amount_cents=4000)
    return lea


def accesses(factory: sessionmaker[Session]) -> list[tuple[str, str, int, list[int]]]:
    with factory() as session:
        rows = session.scalars(select(DataAccess).order_by(DataAccess.id)).all()
        return [(r.action, r.target, r.subjects, list(session.scalars(
            select(DataAccessSubject.user_id).where(DataAccessSubject.access_id == r.id)))) for r in rows]


def test_treasurers_and_admins_only(browser: Any, client: Any, arranged: int) -> None:
    member = browser("member")
    analyst = browser("analyst")
    for page in (*PAGES, "/tresorerie/paiements/1/remboursement"):
        assert member.get(page).status_code == 403, page
        assert analyst.get(page).status_code == 403, page
        anonymous = client.get(page)
        assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"], page
    treasurer, admin = browser("treasurer"), browser("admin")
    for page in PAGES:
        for who in (treasurer, admin):
            response = who.get(page)
            assert response.status_code == 200, page
            assert response.headers["Cache-Control"] == "no-store"
    assert member.post("/tresorerie/paiements/1/remboursement", {"amount": "1"}).status_code == 403
    assert 'href="/tresorerie"' in treasurer.get("/").get_data(as_text=True)  # the header's link
    assert 'href="/tresorerie"' not in member.get("/").get_data(as_text=True)


def cells(page: str, row: str) -> dict[str, str]:
    found = re.search(rf'<tr data-{row}>(.*?)</tr>', page, re.S)
    assert found, f"no row {row}"
    return {k: text(v) for k, v in re.findall(r'<td data-col="([a-z_]+)">([^<]*)</td>', found.group(1))}


def test_the_month_totals_in_french(browser: Any, arranged: int) -> None:
    page = browser("treasurer").get("/tresorerie?annee=2026").get_data(as_text=True)
    assert cells(page, 'month="3"') == {"received": "70,00\u00a0€", "refunded": "0,00\u00a0€", "net": "70,00\u00a0€",
                                        "gifts": "50,00\u00a0€", "fees": "20,00\u00a0€", "donors": "2"}
    assert cells(page, 'month="4"') == {"received": "100,00\u00a0€", "refunded": "40,00\u00a0€",
                                        "net": "60,00\u00a0€", "gifts": "60,00\u00a0€", "fees": "0,00\u00a0€",
                                        "donors": "1"}
    assert cells(page, 'month="year"') == {"received": "170,00\u00a0€", "refunded": "40,00\u00a0€",
                                           "net": "130,00\u00a0€", "gifts": "110,00\u00a0€", "fees": "20,00\u00a0€",
                                           "donors": "2"}
    assert cells(page, 'month="1"')["received"] == "0,00\u00a0€"
    assert "Mars" in text(page) and 'href="/tresorerie/export/2026.csv"' in page


def test_the_payments_and_their_filters(browser: Any, arranged: int) -> None:
    treasurer = browser("treasurer")
    page = treasurer.get("/tresorerie/paiements?annee=2026").get_data(as_text=True)
    rows = re.findall(r'<tr data-payment="(\d+)">(.*?)</tr>', page, re.S)
    assert [text(re.findall(r'data-col="donor">([^<]*)<', body)[0]) for _, body in rows] == [
        "Léa Martin", "Hugo =SOMME(A1:A9)", "Léa Martin"]  # newest first
    assert "40,00\u00a0€" in text(page) and "Remboursé" in text(page)
    march = treasurer.get("/tresorerie/paiements?annee=2026&mois=3&nature=gift").get_data(as_text=True)
    assert march.count('<tr data-payment=') == 1 and "50,00\u00a0€" in text(march)
    refunded = treasurer.get("/tresorerie/paiements?statut=refunded").get_data(as_text=True)
    assert refunded.count('<tr data-payment=') == 1
    assert treasurer.get("/tresorerie/paiements?statut=stolen").status_code == 400
    assert treasurer.get("/tresorerie/paiements?annee=1999").status_code == 400  # not a year with payments


def test_the_yearly_list_for_the_commission(browser: Any, arranged: int) -> None:
    response = browser("treasurer").get("/tresorerie/export/2026.csv")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and "donateurs-2026.csv" in response.headers["Content-Disposition"]
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == ["nom", "prenom", "adresse", "code_postal", "ville", "pays", "dons_euros", "cotisations_euros",
                       "paiements", "recus"]
    assert rows[1:] == [
        ["'=SOMME(A1:A9)", "Hugo", "3 rue du Bac", "75007", "Paris 7e Arrondissement", "FR", "0.00", "20.00", "1",
         "2026-000002"],
        ["Martin", "Léa", "3 rue du Bac", "75007", "Paris 7e Arrondissement", "FR", "110.00", "0.00", "2",
         "2026-000001 2026-000003"],  # one line for her two gifts, net of the 40 € refunded
    ]


def test_each_page_showing_donors_is_logged(browser: Any, arranged: int, factory: sessionmaker[Session]) -> None:
    treasurer = browser("treasurer")
    treasurer.get("/tresorerie/paiements?annee=2026")
    treasurer.get("/tresorerie/export/2026.csv")
    with factory() as session:
        payment_id = session.scalar(select(DonationPayment.id).where(DonationPayment.payment_id == "pi_lea1"))
    treasurer.get(f"/tresorerie/paiements/{payment_id}/remboursement")
    assert accesses(factory) == [("treasury_payments", "donations:annee=2026", 3, [arranged]),
                                 ("treasury_export", "donations:2026", 2, [arranged]),
                                 ("treasury_refund", f"donation_payment:{payment_id}", 1, [arranged])]


@pytest.fixture
def fake(app: Any) -> Iterator[Any]:
    """A loopback fake Stripe, the app's payment provider for the test."""
    from engagement.payments.stripe_gateway import Gateway
    from web.dev.payments import serve_dev_stripe

    with serve_dev_stripe() as served:
        core = app.extensions["engagement"]
        core.payments = Payments(Gateway(served.api_key, served.webhook_secret, api_base=served.url), BENEFICIARY,
                                 "http://localhost", live=False)
        yield served


def paid_at_the_fake(app: Any, fake: Any, cents: int) -> tuple[int, str]:
    """A gift paid on the fake's hosted page, its webhooks applied: the ledger's payment id and the provider's."""
    payments, factory = app.extensions["engagement"].payments, app.extensions["engagement"].sessions
    with transaction(factory) as session:
        reference = service.open_donation(session, donor("Inès", "Roux"), amount_cents=cents, now=utcnow()).reference
    payments.open_page(factory, reference, utcnow())
    with factory() as session:
        found = service.by_reference(session, reference)
        assert found is not None and found.session_id
        session_id = found.session_id
    fake.pay(session_id)
    deliver(app, fake)
    with factory() as session:
        payment = session.scalars(select(DonationPayment).where(DonationPayment.donation_id == found.id)).one()
        return payment.id, payment.payment_id


def deliver(app: Any, fake: Any) -> None:
    """The fake's webhooks, as /webhooks/stripe would take them (applied once: repeats are duplicates)."""
    core = app.extensions["engagement"]
    for body, signature in fake.events():
        core.payments.receive(core.sessions, body, signature, utcnow())


def refunded_charges(fake: Any) -> list[dict[str, Any]]:
    """The charges of the fake's ``charge.refunded`` events, oldest first."""
    events = [json.loads(body) for body, _ in fake.events()]
    return [e["data"]["object"] for e in events if e["type"] == "charge.refunded"]


def test_a_refund_reaches_the_provider_and_shows_once_its_webhook_arrives(app: Any, browser: Any, fake: Any,
                                                                          factory: sessionmaker[Session]) -> None:
    payment_id, intent = paid_at_the_fake(app, fake, 6000)
    treasurer = browser("treasurer")
    page = treasurer.get(f"/tresorerie/paiements/{payment_id}/remboursement").get_data(as_text=True)
    assert 'value="60,00"' in page or 'value="60.00"' in page  # all that is left, by default
    response = treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement", {"amount": "25,50"})
    assert response.status_code == 303, text(treasurer.last_html)[:1500]
    sent = treasurer.get(response.headers["Location"]).get_data(as_text=True)
    assert "Remboursement demandé" in text(sent) and 'data-testid="refund-pending"' in sent
    charges = refunded_charges(fake)
    assert [c["amount_refunded"] for c in charges] == [2550] and charges[0]["payment_intent"] == intent
    with factory() as session:
        row = session.get(DonationPayment, payment_id)
        assert row is not None and row.refunded_cents == 0 and row.refund_requested_cents == 2550
        assert row.refund_requested_by is not None
    listed = treasurer.get("/tresorerie/paiements").get_data(as_text=True)
    assert "Remboursement demandé" in text(listed)
    again = treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement", {"amount": "25,50"},
                           page=None)  # the same form sent twice: the provider answers it once
    assert again.status_code == 303
    deliver(app, fake)
    with factory() as session:
        row = session.get(DonationPayment, payment_id)
        assert row is not None and row.refunded_cents == 2550
    listed = treasurer.get("/tresorerie/paiements").get_data(as_text=True)
    assert "Remboursement demandé" not in text(listed) and "25,50\u00a0€" in text(listed)
    assert "Remboursé" in text(listed)
    late = treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement",
                          {"amount": "25,50", "seen": "0"})  # the first page's form, once the refund came through
    assert late.status_code == 409
    assert [c["amount_refunded"] for c in refunded_charges(fake)] == [2550]


def test_amounts_past_what_is_left_are_refused(app: Any, browser: Any, fake: Any,
                                               factory: sessionmaker[Session]) -> None:
    payment_id, _ = paid_at_the_fake(app, fake, 3000)
    treasurer = browser("treasurer")
    treasurer.get(f"/tresorerie/paiements/{payment_id}/remboursement")
    for typed in ("30,01", "0", "-5", "dix euros"):
        response = treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement", {"amount": typed})
        assert response.status_code == 400, typed
        assert 'class="error-summary"' in treasurer.last_html, typed
    assert refunded_charges(fake) == []
    with factory() as session:
        assert session.get(DonationPayment, payment_id).refund_requested_at is None  # type: ignore[union-attr]


def test_a_provider_refusal_is_told_and_nothing_recorded(app: Any, browser: Any, fake: Any,
                                                         factory: sessionmaker[Session]) -> None:
    payment_id, intent = paid_at_the_fake(app, fake, 4000)
    fake.dispute(intent)  # charged back at the provider; our ledger has not heard of it yet
    treasurer = browser("treasurer")
    treasurer.get(f"/tresorerie/paiements/{payment_id}/remboursement")
    response = treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement", {"amount": "40"})
    assert response.status_code == 502
    assert "n’a rien remboursé" in text(treasurer.last_html) or "rien n’a été remboursé" in text(treasurer.last_html)
    with factory() as session:
        row = session.get(DonationPayment, payment_id)
        assert row is not None and row.refunded_cents == 0 and row.refund_requested_at is None
    assert refunded_charges(fake) == []


def test_refunds_are_rate_limited_per_treasurer(app: Any, browser: Any, fake: Any) -> None:
    payment_id, _ = paid_at_the_fake(app, fake, 3000)
    treasurer = browser("treasurer")
    treasurer.get(f"/tresorerie/paiements/{payment_id}/remboursement")
    answers = [treasurer.post(f"/tresorerie/paiements/{payment_id}/remboursement", {"amount": "0"}).status_code
               for _ in range(31)]
    assert answers[:30] == [400] * 30 and answers[30] == 429
