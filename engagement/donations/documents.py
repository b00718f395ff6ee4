"""What a tax receipt says: the data the ledger hands to the PDF renderer (`receipt_pdf.render`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal


@dataclass(frozen=True)
class Beneficiary:
    """The movement's financing association, as the receipt names it (from the deployment's settings)."""

    name: str  # e.g. "Association de financement du mouvement Engagement"
    address: tuple[str, ...]  # its postal address, one line each
    approval: str  # the CNCCFP's approval ("agrément") reference and date, as printed
    treasurer: str  # the name of the person who signs receipts (the mandataire / treasurer)


@dataclass(frozen=True)
class ReceiptLine:
    """One payment the receipt covers."""

    received_on: date
    amount_cents: int


@dataclass(frozen=True)
class ReceiptData:
    number: str  # "2026-000123": the year, then the receipt's number in that year, without gaps
    issued_on: date
    kind: Literal["gift", "membership"]  # a donation or a membership fee (the law treats both alike)
    first_name: str
    last_name: str
    address: tuple[str, ...]  # the donor's postal address, one line each
    lines: tuple[ReceiptLine, ...]  # one line for a one-off gift; a monthly donor's yearly receipt has several
    beneficiary: Beneficiary
    method: str = "carte bancaire"  # how the money came (cards only, through the provider's hosted page)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)
