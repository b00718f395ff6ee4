"""Giving (issue #26) through the app: the donation workflow, the provider's page (the stand-in of a developer's
machine, speaking Stripe's API through the real library), its signed webhooks, the receipt mailed with its PDF,
the ceiling between two donations, and forged or replayed webhooks changing nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engagement.donations import service
from engagement.donations.models import Donation, DonationPayment, PaymentEventSeen, Receipt
from engagement.mail.models import MailMessage, attachment_content
from engagement.outbox import InProcessRelay
from tests.functional.helpers import advance, state_of, text

URL = "/w/donation"
WHO = {"first_name": "Zoé", "last_name": "N’Diaye", "email": "zoe@example.org"}
HOME = {"address-country": "FR", "address-street": "12 rue de Rivoli", "address-postal_code": "75004"}


def give(client: Any, amount: str = "50", other: str = "", frequency: str = "once", who: dict[str, str] = WHO) -> str:
    """The workflow from its first step to its last page (the payment's); that page."""
    client.get(URL)
    advance(client, {"amount": amount, "other_amount": other}, url=URL)
    advance(client, {"frequency": frequency}, url=URL)
    advance(client, who, url=URL)
    page = advance(client, HOME, url=URL)
    assert state_of(page) == "attestation", text(page)[:1500]
    review = advance(client, {"nationality": "national", "own_money": "y"}, url=URL)
    assert state_of(review) == "check"
    return advance(client, {}, trigger="pay", url=URL)


def pay_button(page: str) -> str:
    found = re.search(r'<form method="post" action="(/dons/[^"]+/paiement)"', page)
    assert found, text(page)[:2000]
    return found.group(1)


def provider_page(client: Any, page: str) -> str:
    """Press "Pay" on our page: the 303 to the provider's page; its path (served by the stand-in)."""
    response = client.post(pay_button(page), {})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith("http://127.0.0.1:5000/dev/payments/pay/cs_"), location
    return urlsplit(location).path


def settle(app: Any, timeout: float = 10.0) -> None:
    """Wait until the stand-in delivered its webhooks and the outbox its mail."""
    assert app.extensions["dev_stripe"].wait_delivered(timeout)
    InProcessRelay.drain()


def test_a_visitor_gives_50_euros_and_receives_the_receipt_by_mail(app: Any, client: Any,
                                                                      factory: sessionmaker[Session]) -> None:
    page = text(give(client))
    assert "50,00\u00a0€" in page and "17,00\u00a0€" in page  # the gift and its cost after the tax reduction
    assert 'data-testid="stand-in"' in page  # no real payment on a developer's machine, and the page says so
    path = provider_page(client, page)
    client.get(URL)  # back on our last page (the browser's Back), the button pressed again
    again = client.post(pay_button(client.last_html), {})
    assert urlsplit(again.headers["Location"]).path == path  # the same provider page, not a second one

    hosted = client.get(path)
    assert hosted.status_code == 200 and "50,00" in hosted.get_data(as_text=True)
    back = client.client.post(path, data={"action": "pay"})
    assert back.status_code == 303
    reference = re.search(r"/dons/([^?]+)\?retour=paye", back.headers["Location"]).group(1)  # type: ignore[union-attr]
    settle(app)

    shown = text(client.get(f"/dons/{reference}?retour=paye").get_data(as_text=True))
    with factory() as session:
        donation = session.scalar(select(Donation))
        assert donation is not None and donation.status == "paid" and donation.amount_cents == 5_000
        (payment,) = session.scalars(select(DonationPayment)).all()
        receipt = session.get(Receipt, payment.receipt_id)
        assert receipt is not None and receipt.mailed_at is not None
        (mail,) = session.scalars(select(MailMessage).where(MailMessage.template == "donation_receipt")).all()
    assert 'data-testid="donation-paid"' in shown and receipt.label in shown
    assert mail.to == ["zoe@example.org"] and receipt.label in mail.subject
    (pdf,) = mail.attachments or []
    assert attachment_content(pdf).startswith(b"%PDF") and pdf["filename"].endswith(f"{receipt.label}.pdf")


def test_abandoning_the_provider_page_charges_nothing_and_offers_to_pay_again(app: Any, client: Any,
                                                                              factory: sessionmaker[Session]) -> None:
    path = provider_page(client, give(client, amount="other", other="35,50"))
    back = client.client.post(path, data={"action": "abandon"})
    assert back.status_code == 303 and "retour=abandon" in back.headers["Location"]
    shown = client.get(urlsplit(back.headers["Location"]).path + "?retour=abandon").get_data(as_text=True)
    assert 'data-testid="donation-unpaid"' in shown and "35,50\u00a0€" in text(shown)
    assert 'data-testid="pay"' in shown
    with factory() as session:
        assert session.scalar(select(Donation.status)) == "pending"
        assert session.scalar(select(func.count()).select_from(DonationPayment)) == 0


def test_the_ceiling_refuses_a_second_gift_that_would_pass_it(app: Any, client: Any, new_client: Any) -> None:
    give(client, amount="other", other="7000")
    other_browser = new_client()
    page = give(other_browser, amount="other", other="600")  # the same person, from another browser
    assert state_of(page) == "over_ceiling", text(page)[:1500]
    assert "500,00\u00a0€" in text(page)  # what is left this year


def test_a_company_cannot_give(client: Any) -> None:
    client.get(URL)
    advance(client, {"amount": "100"}, url=URL)
    advance(client, {"frequency": "once"}, url=URL)
    response = client.post(URL, {**WHO, "last_name": "Dupont SARL", "trigger": "next"})
    assert response.status_code == 422
    assert "entreprise" in text(response.get_data(as_text=True))


def test_only_a_national_or_a_resident_may_give(client: Any) -> None:
    client.get(URL)
    advance(client, {"amount": "20"}, url=URL)
    advance(client, {"frequency": "monthly"}, url=URL)
    advance(client, WHO, url=URL)
    advance(client, HOME, url=URL)
    page = advance(client, {"nationality": "neither", "own_money": "y"}, url=URL)
    assert state_of(page) == "not_allowed" or "Vous ne pouvez pas faire de don" in text(page)


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "7500,01", "12,345"])
def test_a_bad_amount_gets_a_message_and_nothing_is_held(client: Any, factory: sessionmaker[Session],
                                                          amount: str) -> None:
    client.get(URL)
    response = client.post(URL, {"amount": "other", "other_amount": amount, "trigger": "next"})
    assert response.status_code == 422, amount
    assert 'class="error-summary"' in response.get_data(as_text=True)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Donation)) == 0


def test_forged_and_duplicated_webhooks_change_nothing(app: Any, client: Any, factory: sessionmaker[Session]) -> None:
    path = provider_page(client, give(client))
    client.client.post(path, data={"action": "pay"})
    settle(app)
    fake = app.extensions["dev_stripe"]
    body, signature = fake.events()[0]
    webhook = app.test_client()
    replayed = webhook.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature})
    assert replayed.status_code == 200 and replayed.get_json()["outcome"] == "duplicate"
    forged = json.loads(body)
    forged["id"], forged["data"]["object"]["amount_total"] = "evt_forged", 100
    refused = webhook.post("/webhooks/stripe", data=json.dumps(forged).encode(),
                           headers={"Stripe-Signature": signature})
    assert refused.status_code == 400
    unsigned = webhook.post("/webhooks/stripe", data=body)
    assert unsigned.status_code == 400
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(DonationPayment)) == 1
        assert session.scalar(select(func.count()).select_from(Receipt)) == 1
        assert session.get(PaymentEventSeen, "evt_forged") is None


def test_a_monthly_gift_counts_each_month(app: Any, client: Any, factory: sessionmaker[Session]) -> None:
    path = provider_page(client, give(client, amount="20", frequency="monthly"))
    client.client.post(path, data={"action": "pay"})
    settle(app)
    with factory() as session:
        donation = session.scalar(select(Donation))
        assert donation is not None and donation.status == "active" and donation.subscription_id
    app.extensions["dev_stripe"].renew(donation.subscription_id)
    settle(app)
    with factory() as session:
        amounts = session.scalars(select(DonationPayment.amount_cents)).all()
        assert amounts == [2_000, 2_000]
        assert session.scalar(select(func.count()).select_from(Receipt)) == 0  # one yearly receipt, in January


def test_the_webhook_is_closed_when_donations_are(app: Any) -> None:
    app.extensions["engagement"].payments = None
    assert app.test_client().post("/webhooks/stripe", data=b"{}").status_code == 404


def test_a_member_finds_their_receipt_in_their_account_and_nobody_else_can(app: Any, client: Any, new_client: Any,
                                                                           factory: sessionmaker[Session]) -> None:
    from tests.functional.invitation_steps import log_in, make_user

    make_user(app, "zoe@example.org", first_name="Zoé", last_name="N’Diaye")
    log_in(client, "zoe@example.org")
    path = provider_page(client, give(client))
    client.client.post(path, data={"action": "pay"})
    settle(app)
    page = client.get("/account/donations").get_data(as_text=True)
    link = re.search(r'href="(/account/donations/receipts/(\d+)\.pdf)"', page)
    assert link, text(page)[:2000]
    assert "50,00\u00a0€" in text(page)
    pdf = client.client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.get_data().startswith(b"%PDF")
    assert "no-store" in pdf.headers["Cache-Control"]
    assert "/account/donations" in client.get("/account").get_data(as_text=True)
    with factory() as session:  # their data export (GDPR art. 15) lists the donation and its receipt
        from engagement.accounts.models import User
        from engagement.db import utcnow
        from engagement.privacy import export

        user = session.scalar(select(User).where(User.email == "zoe@example.org"))
        assert user is not None
        (gift,) = export.collect(session, user, utcnow())["donations"]
    assert gift["amount_cents"] == 5_000 and gift["payments"][0]["receipt"].startswith("20")

    make_user(app, "other@example.org")
    other = new_client()
    log_in(other, "other@example.org")
    assert other.client.get(link.group(1)).status_code == 404
    assert "no-store" in other.get("/account/donations").headers["Cache-Control"]
    assert app.test_client().get(link.group(1)).status_code in (302, 303)  # anonymous: to the log-in page


def test_a_monthly_gift_stops_before_it_would_pass_the_ceiling(app: Any, client: Any, new_client: Any,
                                                                factory: sessionmaker[Session],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the next instalment fell in this calendar year (in December it falls in the next, with a new ceiling)
    monkeypatch.setattr(service, "NEXT_INSTALMENT", timedelta(0))
    first = provider_page(client, give(client, amount="other", other="7480"))
    client.client.post(first, data={"action": "pay"})
    monthly = new_client()
    path = provider_page(monthly, give(monthly, amount="20", frequency="monthly"))  # 7,500 € reached with it
    monthly.client.post(path, data={"action": "pay"})
    settle(app)
    settle(app)  # the cancellation's own event (customer.subscription.deleted) comes back
    with factory() as session:
        donation = session.scalar(select(Donation).where(Donation.monthly.is_(True)))
        assert donation is not None and donation.stop_reason == "ceiling" and donation.status == "ended"
        told = session.scalars(select(MailMessage).where(MailMessage.template == "donation_stopped")).all()
        assert [m.to for m in told] == [["zoe@example.org"]]
    subscription = app.extensions["dev_stripe"].get(donation.subscription_id)
    assert subscription is not None and subscription["status"] == "canceled"


def test_a_member_pays_the_membership_fee_the_organizers_set(app: Any, client: Any,
                                                              factory: sessionmaker[Session]) -> None:
    client.get("/w/membership")
    advance(client, {**WHO, "amount": "1"}, url="/w/membership")  # a posted amount is not a field: ignored
    advance(client, HOME, url="/w/membership")
    review = advance(client, {"nationality": "resident", "own_money": "y"}, url="/w/membership")
    assert state_of(review) == "check"
    page = text(advance(client, {}, trigger="pay", url="/w/membership"))
    assert "30,00\u00a0€" in page and "10,20\u00a0€" in page
    client.client.post(provider_page(client, page), data={"action": "pay"})
    settle(app)
    with factory() as session:
        donation = session.scalar(select(Donation))
        assert donation is not None and donation.kind == "membership" and donation.amount_cents == 3_000
        assert donation.attestation == "resident" and donation.status == "paid"
        (mail,) = session.scalars(select(MailMessage).where(MailMessage.template == "donation_receipt")).all()
    assert "cotisation" in mail.text_body
