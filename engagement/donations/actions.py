"""What workflows/donation.yml names: opening the donation (its amount held under the ceiling), and the check
that a donor's name is a person's, not a company's or an association's (only natural persons may give)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from engagement.donations import service
from engagement.donations.service import DonationRefused, Donor
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import REGISTRY, ActionContext

OTHER = "other"  # the amount choice that reads the free amount field

# Legal forms a company or an association writes in its name (French and common foreign ones), as whole words.
LEGAL_ENTITY = re.compile(
    r"\b(s\.?a\.?r\.?l|e\.?u\.?r\.?l|s\.?a\.?s\.?u?|s\.?n\.?c|s\.?c\.?i|s\.?c\.?o\.?p|s\.?e\.?l\.?a\.?r\.?l|gie|"
    r"soci[ée]t[ée]|association|fondation|syndicat|entreprise|holding|cabinet|"
    r"gmbh|ltd|llc|inc|plc|corp|sprl|bvba)\b\.?", re.IGNORECASE)


def is_legal_entity(name: str) -> bool:
    return bool(LEGAL_ENTITY.search(name))


@REGISTRY.field_validator("donations.natural_person", rules=("legal_entity",))
def natural_person(session: Session, value: Any) -> str | None:
    """A name that reads as a company's or an association's is refused: only natural persons may give."""
    return "legal_entity" if isinstance(value, str) and is_legal_entity(value) else None


@REGISTRY.field_validator("donations.euros", rules=("cents",))
def euros(session: Session, value: Any) -> str | None:
    """An amount in euros has at most two decimals (cents)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None  # not a number: the field's own rule says so
    return "cents" if number.is_finite() and number != number.quantize(Decimal("0.01")) else None


def amount_cents(data: dict[str, Any]) -> int:
    """The amount chosen (a suggested one, or the free one), in cents; raises ValueError when unreadable."""
    chosen = str(data.get("amount") or "")
    raw = str(data.get("other_amount") or "") if chosen == OTHER else chosen
    try:
        euros = Decimal(raw.replace(",", ".").replace("\u202f", "").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError("the amount is not a number") from None
    if not euros.is_finite() or euros != euros.quantize(Decimal("0.01")):
        raise ValueError("the amount has more than two decimals")
    return int(euros * 100)


@REGISTRY.action("donations.open", provides=("outcome", "donation", "remaining_cents"))
def open_donation(context: ActionContext) -> None:
    """Hold the amount under the donor's ceiling and open the donation: ``outcome`` is ``opened`` (``donation``
    is its reference, the payment page comes next), ``ceiling`` (``remaining_cents`` says what is left this
    year) or ``refused`` (the attestation is missing)."""
    data, actor = context.data, context.actor
    address = data.get("address") or {}
    try:
        cents = amount_cents(data)
    except ValueError:
        raise WorkflowError("invalid", "the amount is not a valid amount in euros", field="amount") from None
    def text(source: dict[str, Any], key: str) -> str:
        return str(source.get(key) or "").strip()

    donor = Donor(first_name=text(data, "first_name"), last_name=text(data, "last_name"), email=text(data, "email"),
                  street=text(address, "street"), postal_code=text(address, "postal_code"),
                  city_code=text(address, "city"), city_name=text(address, "city_name"),
                  country=text(address, "country") or "FR", attestation=text(data, "nationality"),
                  user_id=getattr(actor, "id", None))
    try:
        donation = service.open_donation(context.session, donor, amount_cents=cents,
                                         kind=str(data.get("kind") or "gift"),
                                         monthly=data.get("frequency") == "monthly", now=context.now,
                                         locale=context.locale)
    except DonationRefused as refused:
        data["outcome"] = "ceiling" if refused.code == "ceiling" else "refused"
        data["remaining_cents"] = refused.remaining_cents
        data.pop("donation", None)
        return
    data["outcome"], data["donation"], data["remaining_cents"] = "opened", donation.reference, None
