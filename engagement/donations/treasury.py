"""The treasurer's view of the ledger: payments received, totals per month, what must be given back, the yearly
list for the CNCCFP, and refunds asked of the provider.

Each query is a few statements whatever the number of rows. A refund is asked here, then sent by the caller
outside the transaction (the provider is a network call); the ledger moves only when the provider's
``charge.refunded`` webhook arrives (`service.apply`): until then the payment says "refund requested".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.orm import Session

from engagement.clock import PARIS
from engagement.donations.models import Donation, DonationPayment, Receipt

log = logging.getLogger(__name__)

PAGE_SIZE = 50
STATUSES = ("counted", "over_ceiling", "refunded", "disputed")
_P = DonationPayment
_NET = _P.amount_cents - _P.refunded_cents - _P.disputed_cents  # the money kept


@dataclass(frozen=True)
class Filters:
    """Which payments to list (None: all): ``month`` (1-12) counts only with a ``year``."""

    year: int | None = None
    month: int | None = None
    kind: str | None = None  # gift or membership
    status: str | None = None  # one of STATUSES


@dataclass(frozen=True)
class PaymentRow:
    """One payment as the treasurer's pages show it."""

    id: int
    payment_id: str  # the provider's
    reference: str
    kind: str
    monthly: bool
    first_name: str
    last_name: str
    user_id: int | None  # the donor's account, when they gave signed in (for the access log)
    amount_cents: int
    refunded_cents: int
    disputed_cents: int
    over_ceiling: bool
    received_at: datetime
    receipt: str | None  # its label, "2026-000012"
    refund_requested_at: datetime | None
    refund_requested_cents: int | None

    @property
    def left_cents(self) -> int:
        """What may still be refunded: received, less refunds and chargebacks."""
        return max(self.amount_cents - self.refunded_cents - self.disputed_cents, 0)

    @property
    def refund_pending(self) -> bool:
        return self.refund_requested_cents is not None and self.refunded_cents < self.refund_requested_cents

    @property
    def status(self) -> str:
        if self.disputed_cents:
            return "disputed"
        if self.refunded_cents:
            return "refunded"
        return "over_ceiling" if self.over_ceiling else "counted"


@dataclass(frozen=True)
class Page:
    rows: list[PaymentRow]
    number: int  # from 1
    has_next: bool


@dataclass(frozen=True)
class MonthTotal:
    """A month's money (``month`` 0: the whole year); refunds include chargebacks."""

    month: int
    received_cents: int = 0
    refunded_cents: int = 0
    gifts_net_cents: int = 0
    fees_net_cents: int = 0
    donors: int = 0  # people (one ``ceiling_key``) who paid that month

    @property
    def net_cents(self) -> int:
        return self.received_cents - self.refunded_cents


@dataclass(frozen=True)
class DonorLine:
    """One person's year in the CNCCFP list: the money kept (net of refunds and chargebacks, over-ceiling money
    left out), with the identity and address of their latest donation that year."""

    last_name: str
    first_name: str
    street: str
    postal_code: str
    city: str
    country: str
    gifts_cents: int
    fees_cents: int
    payments: int
    receipts: tuple[str, ...]


class RefundRefused(Exception):
    """A refund that cannot be asked: ``unknown`` payment, ``amount`` not between 1 cent and what is left,
    ``changed`` since the page was shown, or another refund still ``pending``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RefundRequest:
    """What to ask the provider; ``total_cents`` is the payment's refunded total once it is done."""

    payment_id: int
    provider_payment_id: str
    amount_cents: int
    total_cents: int

    @property
    def idempotency_key(self) -> str:
        """The same request sent twice (a double click, a retry) is one refund at the provider; a later, second
        partial refund of the same amount is another (its total differs)."""
        return f"refund-{self.payment_id}-{self.total_cents}"


def paris_start(year: int, month: int = 1) -> datetime:
    """The first instant of a Paris month, in UTC (what ``received_at`` is stored in)."""
    if month == 13:
        year, month = year + 1, 1
    return datetime(year, month, 1, tzinfo=PARIS).astimezone(UTC)


_COLUMNS: tuple[Any, ...] = (  # in PaymentRow's order
    _P.id, _P.payment_id, Donation.reference, Donation.kind, Donation.monthly, Donation.first_name, Donation.last_name,
    Donation.user_id, _P.amount_cents, _P.refunded_cents, _P.disputed_cents, _P.over_ceiling, _P.received_at,
    Receipt.year, Receipt.number, _P.refund_requested_at, _P.refund_requested_cents)


def _rows() -> Select[Any]:
    return (select(*_COLUMNS)
            .join(Donation, Donation.id == _P.donation_id).outerjoin(Receipt, Receipt.id == _P.receipt_id))


def _row(values: Any) -> PaymentRow:
    *head, receipt_year, receipt_number, requested_at, requested_cents = values
    label = f"{receipt_year}-{receipt_number:06d}" if receipt_number is not None else None
    return PaymentRow(*head, receipt=label, refund_requested_at=requested_at,  # type: ignore[misc]
                      refund_requested_cents=requested_cents)


def _where(filters: Filters) -> list[Any]:
    where: list[Any] = []
    if filters.year is not None and filters.month is not None:
        where += [_P.received_at >= paris_start(filters.year, filters.month),
                  _P.received_at < paris_start(filters.year, filters.month + 1)]
    elif filters.year is not None:
        where.append(_P.year == filters.year)
    if filters.kind is not None:
        where.append(Donation.kind == filters.kind)
    if filters.status == "counted":
        where += [_P.over_ceiling.is_(False), _P.refunded_cents == 0, _P.disputed_cents == 0]
    elif filters.status == "over_ceiling":
        where.append(_P.over_ceiling.is_(True))
    elif filters.status == "refunded":
        where.append(_P.refunded_cents > 0)
    elif filters.status == "disputed":
        where.append(_P.disputed_cents > 0)
    return where


def payments(session: Session, filters: Filters, page: int = 1) -> Page:
    """Payments received, newest first, ``PAGE_SIZE`` a page: one statement."""
    page = max(page, 1)
    found = session.execute(_rows().where(*_where(filters)).order_by(_P.received_at.desc(), _P.id.desc())
                            .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return Page([_row(r) for r in found[:PAGE_SIZE]], page, len(found) > PAGE_SIZE)


def payment(session: Session, payment_id: int) -> PaymentRow | None:
    found = session.execute(_rows().where(_P.id == payment_id)).first()
    return _row(found) if found is not None else None


def to_refund(session: Session, limit: int = PAGE_SIZE) -> list[PaymentRow]:
    """Payments received past the donor's ceiling and not given back yet, oldest first: the law lets the
    movement keep no euro past 7,500 € a person a year."""
    return [_row(r) for r in session.execute(
        _rows().where(_P.over_ceiling.is_(True), _NET > 0).order_by(_P.received_at, _P.id).limit(limit))]


def years(session: Session) -> list[int]:
    """The years with payments, latest first."""
    return list(session.scalars(select(_P.year).distinct().order_by(_P.year.desc())))


def month_totals(session: Session, year: int) -> tuple[list[MonthTotal], MonthTotal]:
    """The twelve months of ``year`` (Paris time) and the year's total: three statements."""
    month = case(*((_P.received_at < paris_start(year, m + 1), m) for m in range(1, 12)), else_=12)
    inner = (select(month.label("month"), Donation.kind, Donation.ceiling_key, _P.amount_cents,
                    (_P.refunded_cents + _P.disputed_cents).label("returned"))
             .join(Donation, Donation.id == _P.donation_id).where(_P.year == year).subquery())
    sums = session.execute(select(inner.c.month, inner.c.kind, func.sum(inner.c.amount_cents),
                                  func.sum(inner.c.returned)).group_by(inner.c.month, inner.c.kind)).all()
    donors: dict[int, int] = {int(m): int(n) for m, n in session.execute(
        select(inner.c.month, func.count(distinct(inner.c.ceiling_key))).group_by(inner.c.month))}
    in_year = session.scalar(select(func.count(distinct(inner.c.ceiling_key)))) or 0
    figures = {m: [0, 0, 0, 0] for m in range(1, 13)}  # received, returned, gifts net, fees net
    for m, kind, received, returned in sums:
        row = figures[int(m)]
        row[0] += int(received or 0)
        row[1] += int(returned or 0)
        row[2 if kind == "gift" else 3] += int(received or 0) - int(returned or 0)
    months = [MonthTotal(m, received, returned, gifts, fees, int(donors.get(m, 0)))
              for m, (received, returned, gifts, fees) in figures.items()]
    total = MonthTotal(0, sum(t.received_cents for t in months), sum(t.refunded_cents for t in months),
                       sum(t.gifts_net_cents for t in months), sum(t.fees_net_cents for t in months), int(in_year))
    return months, total


def yearly_list(session: Session, year: int) -> list[DonorLine]:
    """The list the financing association sends the CNCCFP for ``year`` (loi n° 88-227, art. 11-4: each year,
    the list of the persons who gave and the amounts): one line per person, the money kept, sorted by name.

    The columns are ours until the commission gives its template: the name and address as the receipts print
    them, the gifts and the membership fees apart, the number of payments and the receipts' numbers. Money
    received past the ceiling is left out (it is given back); refunds and chargebacks are taken off. Two
    statements whatever the number of donors."""
    kept = (_P.year == year, _P.over_ceiling.is_(False), _NET > 0)
    people = (select(Donation.ceiling_key.label("key"),
                     func.sum(case((Donation.kind == "gift", _NET), else_=0)).label("gifts"),
                     func.sum(case((Donation.kind == "membership", _NET), else_=0)).label("fees"),
                     func.count(_P.id).label("payments"), func.max(Donation.id).label("latest"))
              .select_from(_P).join(Donation, Donation.id == _P.donation_id).where(*kept)
              .group_by(Donation.ceiling_key).subquery())
    lines = session.execute(
        select(people.c.key, Donation.last_name, Donation.first_name, Donation.street, Donation.postal_code,
               Donation.city_name, Donation.country, people.c.gifts, people.c.fees, people.c.payments)
        .join(Donation, Donation.id == people.c.latest)
        .order_by(Donation.last_name, Donation.first_name, people.c.key)).all()
    labels: dict[str, list[str]] = {}
    for key, receipt_year, number in session.execute(
            select(Donation.ceiling_key, Receipt.year, Receipt.number).distinct().select_from(_P)
            .join(Donation, Donation.id == _P.donation_id).join(Receipt, Receipt.id == _P.receipt_id)
            .where(*kept).order_by(Donation.ceiling_key, Receipt.year, Receipt.number)):
        labels.setdefault(key, []).append(f"{receipt_year}-{number:06d}")
    return [DonorLine(last, first, street, postal, city, country, int(gifts or 0), int(fees or 0), int(count),
                      tuple(labels.get(key, ())))
            for key, last, first, street, postal, city, country, gifts, fees, count in lines]


def members_listed(session: Session, year: int) -> list[int]:
    """The accounts of the donors `yearly_list` names (those who gave signed in), for the access log."""
    return list(session.scalars(select(Donation.user_id).distinct().select_from(_P)
                                .join(Donation, Donation.id == _P.donation_id)
                                .where(_P.year == year, _P.over_ceiling.is_(False), _NET > 0,
                                       Donation.user_id.is_not(None))))


def request_refund(session: Session, payment_id: int, amount_cents: int, actor: Any, now: datetime, *,
                   seen_refunded_cents: int | None = None) -> RefundRequest:
    """Record that ``actor`` (a User) asks to give back ``amount_cents`` of a payment, and what to send the
    provider; `RefundRefused` otherwise. ``seen_refunded_cents``: the refunded total the treasurer's page showed
    (a form posted again once a refund came through is refused, not a second refund)."""
    found = session.get(DonationPayment, payment_id, with_for_update=True)
    if found is None:
        raise RefundRefused("unknown")
    if seen_refunded_cents is not None and seen_refunded_cents != found.refunded_cents:
        raise RefundRefused("changed")
    left = found.amount_cents - found.refunded_cents - found.disputed_cents
    if amount_cents < 1 or amount_cents > left:
        raise RefundRefused("amount")
    total = found.refunded_cents + amount_cents
    pending = found.refund_requested_cents is not None and found.refunded_cents < found.refund_requested_cents
    if pending and found.refund_requested_cents != total:
        raise RefundRefused("pending")  # the same request again is allowed: the provider answers it once
    found.refund_requested_at, found.refund_requested_cents = now, total
    found.refund_requested_by = actor.id if actor is not None else None
    log.info("donation payment %s: refund of %s cents requested by user %s", found.id, amount_cents,
             found.refund_requested_by)
    return RefundRequest(found.id, found.payment_id, amount_cents, total)


def refund_not_sent(session: Session, request: RefundRequest) -> None:
    """The provider refused or could not be reached: the payment no longer says a refund is on its way."""
    found = session.get(DonationPayment, request.payment_id, with_for_update=True)
    if found is not None and found.refund_requested_cents == request.total_cents \
            and found.refunded_cents < request.total_cents:
        found.refund_requested_at = found.refund_requested_by = found.refund_requested_cents = None
