"""The treasurer's forms: the payments list's filters (a GET form: they live in the address) and a refund."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.dates import get_month_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from engagement.donations.treasury import STATUSES, Filters
from forms.cleaning import FrenchDecimalField
from forms.text import TextForm

KIND_LABELS = {"gift": _l("Gifts"), "membership": _l("Membership fees")}  # the filter's choices
KIND_LABEL = {"gift": _l("Donation"), "membership": _l("Membership fee")}  # one payment's kind
STATUS_LABELS = {"counted": _l("Counted"), "over_ceiling": _l("Over the ceiling"), "refunded": _l("Refunded"),
                 "disputed": _l("Charged back")}


def month_names() -> dict[int, str]:
    """January to December in the page's language ("janvier" ...)."""
    return {m: str(name) for m, name in get_month_names("wide", locale=get_locale()).items()}


class FilterForm(Form):
    """The payments list's filters; an empty choice is no filter."""

    annee = SelectField(_l("Year"), choices=[], default="")
    mois = SelectField(_l("Month"), choices=[], default="")
    nature = SelectField(_l("Kind"), choices=[], default="")
    statut = SelectField(_l("Status"), choices=[], default="")
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def bind(self, years: list[int]) -> FilterForm:
        everything = [("", str(_l("All")))]
        self.annee.choices = everything + [(str(y), str(y)) for y in years]
        self.mois.choices = everything + [(str(m), name) for m, name in month_names().items()]
        self.nature.choices = everything + [(k, str(v)) for k, v in KIND_LABELS.items()]
        self.statut.choices = everything + [(s, str(STATUS_LABELS[s])) for s in STATUSES]
        return self

    def filters(self) -> Filters:
        year = int(self.annee.data) if self.annee.data else None
        return Filters(year=year, month=int(self.mois.data) if self.mois.data and year else None,
                       kind=self.nature.data or None, status=self.statut.data or None)

    def applied(self) -> dict[str, Any]:
        """The filters as the address carries them (for the next page's link)."""
        return {name: self[name].data for name in ("annee", "mois", "nature", "statut") if self[name].data}


class RefundForm(TextForm):
    """How much to give back (in euros, as a French person writes it), and the refunded total the page showed."""

    amount = FrenchDecimalField(_l("Amount to refund, in euros"), places=2,
                                validators=[InputRequired(message=_l("Enter the amount to refund.")),
                                            NumberRange(min=Decimal("0.01"), message=_l("Enter an amount above 0 €."))],
                                render_kw={"inputmode": "decimal", "autocomplete": "off"})
    seen = HiddenField()

    def cents(self) -> int:
        return int((Decimal(self.amount.data or 0) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def seen_cents(self) -> int | None:
        return int(self.seen.data) if (self.seen.data or "").isdigit() else None
