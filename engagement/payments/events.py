"""A provider's webhook, once its signature is checked, as the donations ledger reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# paid:        money received for a donation (a one-off gift's payment, or one instalment of a monthly gift)
# subscribed:  a monthly gift's subscription exists (no money by itself: each instalment comes as `paid`)
# expired:     the hosted page was left unpaid until it expired
# failed:      the payment was refused (a declined card)
# refunded:    money given back; `amount_cents` is the total refunded on that payment so far (cumulative)
# disputed:    a chargeback opened on that payment; `amount_cents` is the disputed amount
# dispute_won: a chargeback closed in the movement's favour (the money stays)
# ended:       a monthly gift's subscription stopped (by the donor, the provider or us)
Kind = Literal["paid", "subscribed", "expired", "failed", "refunded", "disputed", "dispute_won", "ended"]
KINDS: frozenset[str] = frozenset(Kind.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PaymentEvent:
    """One verified provider event. ``id`` is the provider's event id: the same event delivered twice has it."""

    id: str
    kind: Kind
    occurred_at: datetime  # aware, UTC: when the provider says it happened (events may arrive out of order)
    reference: str | None = None  # our donation's reference (set at checkout, carried back by the provider)
    session_id: str | None = None  # the hosted page's checkout session
    payment_id: str | None = None  # one movement of money: a payment intent (one-off) or an invoice (monthly)
    subscription_id: str | None = None
    amount_cents: int = 0
    currency: str = "eur"
    extra: dict[str, str] = field(default_factory=dict)  # provider details worth keeping (decline code...)
