"""The donations ledger (issue #26): the yearly ceiling per person, events applied once, money never lost,
receipts numbered without gaps. On SQLite, and on MariaDB with DATABASE_URL (the races too)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import outbox
from engagement.db import transaction
from engagement.donations import ceiling, mails, receipts, service
from engagement.donations.documents import Beneficiary
from engagement.donations.models import Donation, DonationPayment, DonorYear, PaymentEventSeen, Receipt
from engagement.donations.service import DonationRefused, Donor, NotYet
from engagement.mail.models import MailMessage, attachment_content
from engagement.payments.events import PaymentEvent

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
ZOE = Donor(first_name="Zoé", last_name="N'Diaye-Lefèvre", email="zoe@example.org", street="12, rue de Rivoli",
            postal_code="75004", city_code="75104", city_name="Paris 4e Arrondissement", attestation="national")
BENEFICIARY = Beneficiary("Association de financement du mouvement Engagement", ("1 rue X", "75001 Paris"),
                          "Agrément CNCCFP n° 0000 du 1er janvier 2026", "Camille Martin")
_ids = count(1)


def event(kind: str, donation: Donation | None = None, **fields: Any) -> PaymentEvent:
    n = next(_ids)
    fields.setdefault("occurred_at", NOW)
    if donation is not None:
        fields.setdefault("reference", donation.reference)
    return PaymentEvent(id=f"evt_{n}", kind=kind, **fields)  # type: ignore[arg-type]


def opened(factory: sessionmaker[Session], amount: int, donor: Donor = ZOE, monthly: bool = False) -> Donation:
    with transaction(factory) as session:
        return service.open_donation(session, donor, amount_cents=amount, monthly=monthly, now=NOW)


def apply(factory: sessionmaker[Session], e: PaymentEvent) -> str:
    with transaction(factory) as session:
        return service.apply(session, e, NOW, BENEFICIARY)


def room(factory: sessionmaker[Session], donor: Donor = ZOE, year: int = 2026) -> int:
    with factory() as session:
        return ceiling.remaining(session, donor.key, year)


def payments(factory: sessionmaker[Session]) -> list[DonationPayment]:
    with factory() as session:
        return list(session.scalars(select(DonationPayment).order_by(DonationPayment.id)))


def test_one_person_whatever_the_spelling_of_their_name_and_street() -> None:
    same = Donor(first_name="ZOE", last_name="ndiaye lefevre", email="other@example.org", street="12 RUE DE RIVOLI",
                 postal_code=" 75004", city_code="75104", city_name="Paris", attestation="resident")
    assert same.key == ZOE.key
    assert Donor(**{**same.__dict__, "postal_code": "75005"}).key != ZOE.key  # another address, another person
    assert ceiling.person_key("Œdipe", "Roi", "13001", "1 place") == ceiling.person_key("oedipe", "ROI", "13001",
                                                                                       "1, Place")


def test_the_year_is_paris_s() -> None:
    assert ceiling.year_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == 2027  # 00:30 on 1 January in Paris
    assert ceiling.year_of(datetime(2026, 12, 31, 22, 30, tzinfo=UTC)) == 2026


def test_a_page_holds_its_amount_and_the_ceiling_refuses_what_does_not_fit(factory: sessionmaker[Session]) -> None:
    opened(factory, 500_000)
    assert room(factory) == 250_000
    with pytest.raises(DonationRefused) as refused:
        opened(factory, 250_001)
    assert refused.value.code == "ceiling" and refused.value.remaining_cents == 250_000
    opened(factory, 250_000)  # exactly up to the ceiling
    assert room(factory) == 0
    assert room(factory, Donor(**{**ZOE.__dict__, "first_name": "Paul"})) == ceiling.CEILING_CENTS


@pytest.mark.parametrize(("amount", "code"), [(99, "too_small"), (0, "too_small"), (-500, "too_small"),
                                              (750_001, "ceiling")])
def test_amounts_outside_the_rules_are_refused(factory: sessionmaker[Session], amount: int, code: str) -> None:
    with pytest.raises(DonationRefused) as refused:
        opened(factory, amount)
    assert refused.value.code == code
    assert room(factory) == ceiling.CEILING_CENTS


def test_only_a_national_or_a_resident_may_give(factory: sessionmaker[Session]) -> None:
    with pytest.raises(DonationRefused) as refused:
        opened(factory, 5_000, Donor(**{**ZOE.__dict__, "attestation": ""}))
    assert refused.value.code == "attestation"


def test_a_payment_is_recorded_once_with_its_receipt(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 5_000)
    paid = event("paid", donation, payment_id="pi_1", amount_cents=5_000, session_id="cs_1")
    assert apply(factory, paid) == "applied"
    assert apply(factory, paid) == "duplicate"  # the same event delivered again
    again = event("paid", donation, payment_id="pi_1", amount_cents=5_000)  # the same money, another event
    assert apply(factory, again) == "duplicate"
    (payment,) = payments(factory)
    assert payment.amount_cents == 5_000 and not payment.over_ceiling and payment.receipt_id is not None
    assert room(factory) == ceiling.CEILING_CENTS - 5_000  # counted once: the hold became the payment
    with factory() as session:
        assert session.get(Donation, donation.id).status == "paid"  # type: ignore[union-attr]
        receipt = session.get(Receipt, payment.receipt_id)
        assert receipt is not None and receipt.label == "2026-000001"
        assert session.scalar(select(func.count()).select_from(PaymentEventSeen)) == 2


def test_an_expired_page_gives_its_hold_back_and_a_late_payment_is_still_recorded(
        factory: sessionmaker[Session]) -> None:
    late = opened(factory, 400_000)
    assert apply(factory, event("expired", late)) == "applied"
    assert room(factory) == ceiling.CEILING_CENTS
    other = opened(factory, 400_000)  # the room the expired page left is taken by another gift
    assert apply(factory, event("paid", other, payment_id="pi_other", amount_cents=400_000)) == "applied"
    # the expired page's payment is confirmed after all: never lost, but not counted and flagged for a refund
    assert apply(factory, event("paid", late, payment_id="pi_late", amount_cents=400_000)) == "applied"
    first, second = payments(factory)
    assert not first.over_ceiling and second.over_ceiling and second.receipt_id is None
    assert room(factory) == ceiling.CEILING_CENTS - 400_000
    assert apply(factory, event("expired", other)) == "ignored"  # paid already: the money decides


def test_a_late_payment_that_fits_counts(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 5_000)
    apply(factory, event("expired", donation))
    apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=5_000))
    (payment,) = payments(factory)
    assert not payment.over_ceiling and payment.receipt_id is not None
    assert room(factory) == ceiling.CEILING_CENTS - 5_000


def test_refunds_are_cumulative_and_reordering_changes_nothing(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 10_000)
    apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=10_000))
    assert apply(factory, event("refunded", payment_id="pi_1", amount_cents=6_000)) == "applied"
    assert apply(factory, event("refunded", payment_id="pi_1", amount_cents=2_000)) == "duplicate"  # an older total
    assert room(factory) == ceiling.CEILING_CENTS - 4_000
    assert apply(factory, event("refunded", payment_id="pi_1", amount_cents=50_000)) == "applied"  # at most all
    (payment,) = payments(factory)
    assert payment.refunded_cents == 10_000 and room(factory) == ceiling.CEILING_CENTS


def test_a_refund_before_its_payment_comes_again_later(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 10_000)
    early = event("refunded", donation, payment_id="pi_1", amount_cents=10_000)
    with pytest.raises(NotYet):
        apply(factory, early)
    with factory() as session:
        assert session.get(PaymentEventSeen, early.id) is None  # not marked: its next delivery applies
    apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=10_000))
    assert apply(factory, early) == "applied"
    assert room(factory) == ceiling.CEILING_CENTS


def test_a_chargeback_uncounts_and_a_won_one_counts_again(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 20_000)
    apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=20_000))
    assert apply(factory, event("disputed", payment_id="pi_1", amount_cents=20_000)) == "applied"
    assert room(factory) == ceiling.CEILING_CENTS
    assert apply(factory, event("dispute_won", payment_id="pi_1")) == "applied"
    assert apply(factory, event("dispute_won", payment_id="pi_1")) == "duplicate"
    assert room(factory) == ceiling.CEILING_CENTS - 20_000


def test_an_event_for_no_donation_of_ours_is_recorded_and_changes_nothing(factory: sessionmaker[Session]) -> None:
    stray = event("paid", reference="nobody", payment_id="pi_x", amount_cents=5_000, session_id="cs_unknown")
    assert apply(factory, stray) == "unknown"
    assert apply(factory, stray) == "duplicate"
    assert payments(factory) == []


def test_a_payment_in_another_currency_is_not_counted(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 5_000)
    assert apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=5_000, currency="usd")) == "ignored"
    assert payments(factory) == []


def test_a_monthly_gift_counts_each_instalment_and_gets_one_yearly_receipt(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 2_000, monthly=True)
    assert apply(factory, event("subscribed", donation, subscription_id="sub_1")) == "applied"
    for month in range(1, 4):
        renewal = event("paid", subscription_id="sub_1", payment_id=f"in_{month}", amount_cents=2_000,
                        occurred_at=NOW + timedelta(days=30 * (month - 1)))
        assert apply(factory, renewal) == "applied"
    assert room(factory) == ceiling.CEILING_CENTS - 6_000
    assert all(p.receipt_id is None for p in payments(factory))  # receipted once a year
    with transaction(factory) as session:
        assert service.issue_yearly(session, 2026, NOW, BENEFICIARY) == 1
        assert service.issue_yearly(session, 2026, NOW, BENEFICIARY) == 0  # nothing left to receipt
    with factory() as session:
        (receipt,) = session.scalars(select(Receipt)).all()
        data = receipts.document(session, receipt)
    assert receipt.yearly and [line.amount_cents for line in data.lines] == [2_000] * 3 and data.total_cents == 6_000
    assert data.beneficiary == BENEFICIARY and data.number == "2026-000001" and data.last_name == ZOE.last_name
    assert apply(factory, event("ended", subscription_id="sub_1")) == "applied"
    with factory() as session:
        assert session.get(Donation, donation.id).status == "ended"  # type: ignore[union-attr]


def test_a_monthly_instalment_past_the_ceiling_is_recorded_not_counted(factory: sessionmaker[Session]) -> None:
    opened(factory, 745_000)
    donation = opened(factory, 5_000, monthly=True)
    apply(factory, event("paid", donation, payment_id="in_1", amount_cents=5_000))
    apply(factory, event("paid", donation, payment_id="in_2", amount_cents=5_000))
    first, second = payments(factory)
    assert not first.over_ceiling and second.over_ceiling
    assert room(factory) == 0
    with factory() as session:  # stopped after the first: the next would pass the ceiling; the donor is told
        stopped = session.get(Donation, donation.id)
        assert stopped is not None and stopped.stop_reason == "ceiling"
        (told,) = session.scalars(select(MailMessage).where(MailMessage.template == "donation_stopped")).all()
        assert told.to == [ZOE.email] and "5 000,00 €" not in told.text_body and "0,00 €" in told.text_body
        assert service.stops_due(session) == []  # no subscription id in this test: nothing to cancel


def test_a_monthly_gift_in_december_is_not_stopped_for_the_next_year(factory: sessionmaker[Session]) -> None:
    opened(factory, 745_000)
    donation = opened(factory, 5_000, monthly=True)
    december = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    apply(factory, event("paid", donation, payment_id="in_1", amount_cents=5_000, occurred_at=december))
    with factory() as session:
        assert session.get(Donation, donation.id).stop_reason is None  # type: ignore[union-attr]


def test_stale_pending_pages_give_their_holds_back(factory: sessionmaker[Session]) -> None:
    opened(factory, 100_000)
    with transaction(factory) as session:
        assert service.expire_stale(session, NOW + timedelta(minutes=30)) == 0  # still open
        assert service.expire_stale(session, NOW + timedelta(hours=3)) == 1
    assert room(factory) == ceiling.CEILING_CENTS


def _race(n: int, work: Callable[[int], object]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as error:  # collected and asserted below
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_racing_4000_euro_gifts_by_one_person_leave_exactly_one(factory: sessionmaker[Session]) -> None:
    for _ in range(5):  # a few rounds: each must end with exactly one accepted
        with transaction(factory) as session:
            session.execute(delete(Donation))
            session.execute(delete(DonorYear))
        outcomes = _race(2, lambda i: opened(factory, 400_000, Donor(**{**ZOE.__dict__, "email": f"{i}@x.org"})))
        refused = [o for o in outcomes if o is not None]
        assert len(refused) == 1 and isinstance(refused[0], DonationRefused), outcomes
        assert room(factory) == ceiling.CEILING_CENTS - 400_000


def test_receipt_numbers_have_no_gap_and_no_duplicate_under_concurrency(factory: sessionmaker[Session]) -> None:
    donors = [Donor(**{**ZOE.__dict__, "first_name": f"Donateur{i}"}) for i in range(12)]
    donations = [opened(factory, 1_000, donor) for donor in donors]

    def pay(i: int) -> None:
        apply(factory, event("paid", donations[i], payment_id=f"pi_{i}", amount_cents=1_000))

    assert _race(len(donations), pay) == [None] * len(donations)
    with factory() as session:
        numbers = sorted(session.scalars(select(Receipt.number).where(Receipt.year == 2026)))
    assert numbers == list(range(1, len(donations) + 1))


def test_a_duplicated_event_delivered_twice_at_once_is_applied_once(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 5_000)
    paid = event("paid", donation, payment_id="pi_1", amount_cents=5_000)
    outcomes = _race(2, lambda i: apply(factory, paid))
    assert all(o is None or isinstance(o, NotYet) for o in outcomes), outcomes
    (payment,) = payments(factory)
    assert room(factory) == ceiling.CEILING_CENTS - 5_000 and payment.receipt_id is not None


def test_the_receipt_is_mailed_once_with_its_pdf(factory: sessionmaker[Session]) -> None:
    donation = opened(factory, 5_000)
    apply(factory, event("paid", donation, payment_id="pi_1", amount_cents=5_000))
    with factory() as session:
        (row,) = session.scalars(select(outbox.OutboxMessage).where(outbox.OutboxMessage.topic == receipts.MAIL_TOPIC))
    assert outbox.deliver(factory, row.id)
    mails.mail_receipt(factory, {"receipt_id": row.payload["receipt_id"]})  # run again (a relay after a crash)
    with factory() as session:
        (message,) = session.scalars(select(MailMessage).where(MailMessage.template == mails.TEMPLATE)).all()
        receipt = session.get(Receipt, row.payload["receipt_id"])
    assert receipt is not None and receipt.mailed_at is not None
    assert message.to == [ZOE.email] and "2026-000001" in message.subject
    assert "50,00\u00a0€" in message.text_body and "17,00\u00a0€" in message.text_body  # the cost after reduction
    (attachment,) = message.attachments or []
    assert attachment["filename"] == "recu-fiscal-2026-000001.pdf" and attachment["content_type"] == "application/pdf"
    assert attachment_content(attachment).startswith(b"%PDF")


def test_the_daily_round_gives_back_stale_holds_and_receipts_last_year(factory: sessionmaker[Session]) -> None:
    monthly = opened(factory, 3_000, monthly=True)
    apply(factory, event("paid", monthly, payment_id="in_1", amount_cents=3_000))
    opened(factory, 10_000)  # a page never paid, its expired event lost
    january = datetime(2027, 1, 2, 4, 10, tzinfo=UTC)
    assert service.housekeeping(factory, january, BENEFICIARY) == {"expired": 1, "yearly_receipts": 1}
    assert service.housekeeping(factory, january, BENEFICIARY) == {"expired": 0, "yearly_receipts": 0}
    assert service.housekeeping(factory, january, None)["yearly_receipts"] == 0  # donations closed: no receipt
    assert room(factory) == ceiling.CEILING_CENTS - 3_000
