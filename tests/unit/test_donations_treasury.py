"""The treasurer's queries (engagement.donations.treasury) against a hand count of arranged payments: the list and
its filters, the month totals in Paris time, what is over the ceiling, the CNCCFP's yearly list, refund requests.
On SQLite, and on MariaDB with DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from engagement.db import transaction
from engagement.donations import mails, service, treasury
from engagement.donations.documents import Beneficiary
from engagement.donations.models import DonationPayment
from engagement.donations.service import Donor
from engagement.donations.treasury import Filters, RefundRefused
from engagement.payments.events import PaymentEvent

BENEFICIARY = Beneficiary("Association de financement", ("1 rue X", "75001 Paris"), "Agrément n° 0", "Camille")
_ids = count(1)
HANDLERS = (mails,)  # the receipt mail's outbox handler, registered at import: a receipt issued queues its mail


def donor(first: str, last: str, street: str = "1 rue de la Paix") -> Donor:
    return Donor(first_name=first, last_name=last, email=f"{first.lower()}@example.org", street=street,
                 postal_code="75002", city_code="75102", city_name="Paris 2e Arrondissement", attestation="national")


ZOE, BOB, CARL, DAN, EVE = (donor("Zoé", "N'Diaye-Lefèvre"), donor("Bob", "Bernard"), donor("Carl", "Carré"),
                            donor("Dan", "Durand"), donor("Eve", "Evrard"))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def apply(factory: sessionmaker[Session], kind: str, when: datetime, **fields: Any) -> None:
    with transaction(factory) as session:
        service.apply(session, PaymentEvent(id=f"evt_t{next(_ids)}", kind=kind, occurred_at=when,  # type: ignore
                                            **fields), when, BENEFICIARY)


def opened(factory: sessionmaker[Session], who: Donor, cents: int, when: datetime, **options: Any) -> str:
    with transaction(factory) as session:
        return service.open_donation(session, who, amount_cents=cents, now=when, **options).reference


def give(factory: sessionmaker[Session], who: Donor, cents: int, when: datetime, payment_id: str,
         **options: Any) -> str:
    """A one-off gift (or fee) paid on the provider's page; its reference."""
    reference = opened(factory, who, cents, when, **options)
    apply(factory, "paid", when, reference=reference, payment_id=payment_id, amount_cents=cents)
    return reference


@pytest.fixture
def ledger(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """2026 (Paris time): January Zoé 50 € (then her second receipt in March), Bob's 20 € fee, Dan 25 € at 00:30
    on 1 January; February and March, Bob's monthly 10 € (March's charged back); March, Zoé 100 € (30 € refunded);
    April, Carl 7,500 €, then 100 € paid late past his ceiling. 2025: Eve 40 €."""
    give(factory, EVE, 4000, at(2025, 6, 1, 12), "pi_eve")
    give(factory, ZOE, 5000, at(2026, 1, 15, 12), "pi_zoe1")
    give(factory, BOB, 2000, at(2026, 1, 20, 12), "pi_bobfee", kind="membership")
    give(factory, DAN, 2500, at(2025, 12, 31, 23, 30), "pi_dan")  # 00:30 on 1 January in Paris: 2026
    give(factory, ZOE, 10000, at(2026, 3, 10, 12), "pi_zoe2")
    apply(factory, "refunded", at(2026, 3, 12), payment_id="pi_zoe2", amount_cents=3000)
    monthly = opened(factory, BOB, 1000, at(2026, 2, 1, 9), monthly=True)
    apply(factory, "subscribed", at(2026, 2, 1, 9), reference=monthly, subscription_id="sub_bob")
    for payment_id, when in (("in_bob1", at(2026, 2, 1, 10)), ("in_bob2", at(2026, 3, 1, 10))):
        apply(factory, "paid", when, subscription_id="sub_bob", reference=monthly, payment_id=payment_id,
              amount_cents=1000)
    apply(factory, "disputed", at(2026, 3, 20), payment_id="in_bob2", amount_cents=1000)
    late = opened(factory, CARL, 10000, at(2026, 4, 1, 8))
    with transaction(factory) as session:
        found = service.by_reference(session, late)
        assert found is not None
        service.page_expired(session, found, at(2026, 4, 1, 9))  # its hold goes
    give(factory, CARL, 750_000, at(2026, 4, 1, 10), "pi_carl")
    apply(factory, "paid", at(2026, 4, 2, 10), reference=late, payment_id="pi_carl_late", amount_cents=10000)
    return factory


def ids(page: treasury.Page) -> list[str]:
    return [row.payment_id for row in page.rows]


def listed(factory: sessionmaker[Session], **filters: Any) -> list[str]:
    with factory() as session:
        return ids(treasury.payments(session, Filters(**filters)))


def test_the_payments_newest_first_with_their_donor_receipt_and_status(ledger: sessionmaker[Session]) -> None:
    with ledger() as session:
        page = treasury.payments(session, Filters(year=2026))
    assert ids(page) == ["pi_carl_late", "pi_carl", "pi_zoe2", "in_bob2", "in_bob1", "pi_bobfee", "pi_zoe1", "pi_dan"]
    rows = {row.payment_id: row for row in page.rows}
    assert not page.has_next and page.number == 1
    zoe = rows["pi_zoe2"]
    assert (zoe.first_name, zoe.kind, zoe.amount_cents, zoe.refunded_cents, zoe.left_cents, zoe.status) == (
        "Zoé", "gift", 10000, 3000, 7000, "refunded")
    assert zoe.receipt == "2026-000004"  # Eve's was 2025's first; then Zoé, Bob's fee, Dan (2026), Zoé again
    assert (rows["pi_dan"].receipt, rows["pi_bobfee"].kind) == ("2026-000003", "membership")
    assert rows["in_bob2"].status == "disputed" and rows["in_bob2"].left_cents == 0 and rows["in_bob2"].monthly
    assert rows["in_bob1"].receipt is None  # a monthly gift's receipt is the yearly one
    assert rows["pi_carl_late"].status == "over_ceiling" and rows["pi_carl_late"].receipt is None
    assert rows["pi_carl"].status == "counted"


def test_the_list_s_filters(ledger: sessionmaker[Session]) -> None:
    assert listed(ledger, year=2025) == ["pi_eve"]
    assert listed(ledger, year=2026, month=1) == ["pi_bobfee", "pi_zoe1", "pi_dan"]  # Dan's: January in Paris
    assert listed(ledger, year=2025, month=12) == []
    assert listed(ledger, year=2026, month=3) == ["pi_zoe2", "in_bob2"]
    assert listed(ledger, kind="membership") == ["pi_bobfee"]
    assert listed(ledger, status="refunded") == ["pi_zoe2"]
    assert listed(ledger, status="disputed") == ["in_bob2"]
    assert listed(ledger, status="over_ceiling") == ["pi_carl_late"]
    assert listed(ledger, status="counted", year=2026) == ["pi_carl", "in_bob1", "pi_bobfee", "pi_zoe1", "pi_dan"]
    assert listed(ledger, status="counted", kind="membership", year=2025) == []


def test_pages_of_the_list(ledger: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(treasury, "PAGE_SIZE", 3)
    with ledger() as session:
        pages = [treasury.payments(session, Filters(year=2026), n) for n in (1, 2, 3)]
    assert [ids(p) for p in pages] == [["pi_carl_late", "pi_carl", "pi_zoe2"], ["in_bob2", "in_bob1", "pi_bobfee"],
                                       ["pi_zoe1", "pi_dan"]]
    assert [p.has_next for p in pages] == [True, True, False]


def test_the_month_totals_in_paris_time(ledger: sessionmaker[Session]) -> None:
    with ledger() as session:
        months, total = treasury.month_totals(session, 2026)
    figures = {m.month: (m.received_cents, m.refunded_cents, m.net_cents, m.gifts_net_cents, m.fees_net_cents,
                         m.donors) for m in months}
    assert figures[1] == (9500, 0, 9500, 7500, 2000, 3)
    assert figures[2] == (1000, 0, 1000, 1000, 0, 1)
    assert figures[3] == (11000, 4000, 7000, 7000, 0, 2)  # Zoé's 30 € refunded, Bob's 10 € charged back
    assert figures[4] == (760_000, 0, 760_000, 760_000, 0, 1)  # Carl's late 100 € counts until given back
    assert all(figures[m] == (0, 0, 0, 0, 0, 0) for m in range(5, 13))
    assert (total.month, total.received_cents, total.refunded_cents, total.net_cents, total.gifts_net_cents,
            total.fees_net_cents, total.donors) == (0, 781_500, 4000, 777_500, 775_500, 2000, 4)
    with ledger() as session:
        assert treasury.month_totals(session, 2025)[1].received_cents == 4000
        assert treasury.years(session) == [2026, 2025]


def test_what_is_over_the_ceiling_until_it_is_given_back(ledger: sessionmaker[Session]) -> None:
    with ledger() as session:
        assert [(r.payment_id, r.left_cents) for r in treasury.to_refund(session)] == [("pi_carl_late", 10000)]
    apply(ledger, "refunded", at(2026, 4, 3), payment_id="pi_carl_late", amount_cents=4000)
    with ledger() as session:
        assert [(r.payment_id, r.left_cents) for r in treasury.to_refund(session)] == [("pi_carl_late", 6000)]
    apply(ledger, "refunded", at(2026, 4, 4), payment_id="pi_carl_late", amount_cents=10000)
    with ledger() as session:
        assert treasury.to_refund(session) == []


def test_the_yearly_list_for_the_commission(ledger: sessionmaker[Session]) -> None:
    with ledger() as session:
        lines = treasury.yearly_list(session, 2026)
        members = treasury.members_listed(session, 2026)
    assert [(x.last_name, x.first_name, x.gifts_cents, x.fees_cents, x.payments, x.receipts) for x in lines] == [
        ("Bernard", "Bob", 1000, 2000, 2, ("2026-000002",)),  # the charged-back month left out
        ("Carré", "Carl", 750_000, 0, 1, ("2026-000005",)),  # the late 100 € past the ceiling left out
        ("Durand", "Dan", 2500, 0, 1, ("2026-000003",)),
        ("N'Diaye-Lefèvre", "Zoé", 12000, 0, 2, ("2026-000001", "2026-000004")),  # net of the 30 € refunded
    ]
    assert (lines[0].street, lines[0].postal_code, lines[0].city, lines[0].country) == (
        "1 rue de la Paix", "75002", "Paris 2e Arrondissement", "FR")
    assert members == []  # nobody gave signed in
    with ledger() as session:
        assert [x.first_name for x in treasury.yearly_list(session, 2025)] == ["Eve"]
        assert treasury.yearly_list(session, 2024) == []


def test_one_line_per_person_with_the_identity_of_their_latest_gift(factory: sessionmaker[Session]) -> None:
    give(factory, ZOE, 1000, at(2026, 5, 1, 10), "pi_a")
    same = Donor(**{**ZOE.__dict__, "first_name": "ZOE", "email": "other@example.org"})  # the same person
    give(factory, same, 2000, at(2026, 5, 2, 10), "pi_b")
    with factory() as session:
        lines = treasury.yearly_list(session, 2026)
    assert [(x.first_name, x.gifts_cents, x.payments) for x in lines] == [("ZOE", 3000, 2)]


@pytest.fixture
def statements(factory: sessionmaker[Session]) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = factory.kw["bind"]

    def count_one(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count_one)
    yield seen
    event.remove(engine, "before_cursor_execute", count_one)


def test_a_few_statements_whatever_the_number_of_payments(ledger: sessionmaker[Session],
                                                          statements: list[str]) -> None:
    with ledger() as session:
        statements.clear()
        treasury.month_totals(session, 2026)
        treasury.yearly_list(session, 2026)
        treasury.payments(session, Filters(year=2026))
        treasury.to_refund(session)
        treasury.members_listed(session, 2026)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3 + 2 + 1 + 1 + 1


def test_a_refund_request_is_recorded_with_who_asked(ledger: sessionmaker[Session]) -> None:
    now = at(2026, 4, 5, 9)
    with transaction(ledger) as session:
        payment_id = session.query(DonationPayment.id).filter_by(payment_id="pi_carl_late").scalar()
        asked = treasury.request_refund(session, payment_id, 10000, None, now, seen_refunded_cents=0)
    assert (asked.provider_payment_id, asked.amount_cents, asked.idempotency_key) == (
        "pi_carl_late", 10000, f"refund-{payment_id}-10000")
    with ledger() as session:
        row = treasury.payment(session, payment_id)
        assert row is not None and row.refund_pending and row.refund_requested_at == now
        assert row.refunded_cents == 0  # the ledger moves on the provider's webhook only
    with transaction(ledger) as session:  # a double click: the same request, the same key
        again = treasury.request_refund(session, payment_id, 10000, None, now, seen_refunded_cents=0)
    assert again.idempotency_key == asked.idempotency_key
    with transaction(ledger) as session, pytest.raises(RefundRefused) as refused:
        treasury.request_refund(session, payment_id, 5000, None, now)
    assert refused.value.code == "pending"
    apply(ledger, "refunded", at(2026, 4, 5, 10), payment_id="pi_carl_late", amount_cents=10000)
    with ledger() as session:
        row = treasury.payment(session, payment_id)
        assert row is not None and not row.refund_pending and row.status == "refunded" and row.left_cents == 0


@pytest.mark.parametrize(("amount", "seen", "code"), [(0, None, "amount"), (7001, None, "amount"),
                                                      (100, 0, "changed")])
def test_refunds_that_cannot_be_asked(ledger: sessionmaker[Session], amount: int, seen: int | None,
                                      code: str) -> None:
    with transaction(ledger) as session, pytest.raises(RefundRefused) as refused:
        payment_id = session.query(DonationPayment.id).filter_by(payment_id="pi_zoe2").scalar()
        treasury.request_refund(session, payment_id, amount, None, at(2026, 4, 5), seen_refunded_cents=seen)
    assert refused.value.code == code
    with transaction(ledger) as session, pytest.raises(RefundRefused) as unknown:
        treasury.request_refund(session, 999_999, 100, None, at(2026, 4, 5))
    assert unknown.value.code == "unknown"


def test_a_refund_the_provider_did_not_take_is_no_longer_pending(ledger: sessionmaker[Session]) -> None:
    with transaction(ledger) as session:
        payment_id = session.query(DonationPayment.id).filter_by(payment_id="pi_zoe2").scalar()
        asked = treasury.request_refund(session, payment_id, 7000, None, at(2026, 4, 5), seen_refunded_cents=3000)
    assert asked.total_cents == 10000 and asked.idempotency_key == f"refund-{payment_id}-10000"
    with transaction(ledger) as session:
        treasury.refund_not_sent(session, asked)
    with ledger() as session:
        row = treasury.payment(session, payment_id)
        assert row is not None and not row.refund_pending and row.refund_requested_at is None
        assert row.refunded_cents == 3000
