"""Amounts as donors read them, and what a gift costs after the tax reduction: one place for pages, mails and
receipts."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

KEPT_SHARE = Decimal("0.34")  # what a gift costs once the 66 % reduction applies (code général des impôts, art. 200)


def money(cents: int, locale: str = "fr") -> str:
    """``4 000,00 €`` in French (U+202F between thousands, U+00A0 before the sign, as Babel writes it), ``€4,000.00``
    in English."""
    return format_currency(Decimal(cents).scaleb(-2), "EUR", locale="fr_FR" if locale == "fr" else "en_GB")


def after_reduction(cents: int) -> int:
    return round(cents * KEPT_SHARE)
