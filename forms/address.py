"""The reusable ``address`` field: country (UN member states), street, postal code, and for France
the commune chosen among those carrying the postal code (INSEE code), elsewhere a free city name.

The commune directory is passed in (``CityLookup``); without one, a French address takes a free
city name too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, SelectField, StringField
from wtforms.validators import StopValidation

from engagement.geo.countries import country_choices
from forms.messages import DEFAULT_MESSAGES
from forms.patterns import FRENCH_POSTAL_CODE

CityLookup = Callable[[str], Sequence[tuple[str, str]]]  # postal code -> [(INSEE code, name)]
MAX_FOREIGN_POSTAL_CODE = 20


class AddressForm(Form):
    """Parts named ``<name>-country``, ``-street``, ``-postal_code``, ``-city`` (INSEE), ``-city_name``."""

    country = SelectField(_l("Country"), validate_choice=False, default="FR",
                          render_kw={"autocomplete": "country", "data-address-country": ""})
    street = StringField(_l("Street and number"), render_kw={"autocomplete": "street-address"})
    postal_code = StringField(_l("Postal code"), render_kw={
        "autocomplete": "postal-code", "data-address-postal-code": "", "maxlength": MAX_FOREIGN_POSTAL_CODE})
    city = SelectField(_l("Commune (France)"), validate_choice=False, choices=[],
                       render_kw={"data-address-city": ""})
    city_name = StringField(_l("City (outside France)"), render_kw={"autocomplete": "address-level2",
                                                                  "data-address-city-name": ""})


class AddressField(FormField):
    """A composite address; its rules run on the whole (a FormField itself takes no validators)."""

    def __init__(self, label: Any = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        self.rules = list(validators or [])
        super().__init__(AddressForm, label, separator="-", **kwargs)
        self._errors: list[str] = []
        self.cities: CityLookup | None = None

    def bind(self, locale: str, cities: CityLookup | None) -> None:
        """Set the request's choices: countries in ``locale``, communes of the postal code typed."""
        parts = self.form
        self.cities = cities
        parts.country.choices = list(country_choices(locale))
        options = self.communes()
        if len(options) == 1:
            parts.city.data = options[0][0]  # one commune carries it: nothing to choose
        placeholder = [("", gettext("Choose your commune"))] if len(options) != 1 else []
        parts.city.choices = placeholder + list(options)

    def communes(self) -> list[tuple[str, str]]:
        parts = self.form
        postal_code = (parts.postal_code.data or "").strip()
        if self.cities is None or (parts.country.data or "FR") != "FR" or not FRENCH_POSTAL_CODE.match(postal_code):
            return []
        return list(self.cities(postal_code))

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        self._errors = []
        for rule in self.rules:
            try:
                rule(form, self)
            except StopValidation as stop:
                if stop.args and stop.args[0]:
                    self._errors.append(stop.args[0])
                break
        return not self._errors

    @property  # type: ignore[override]
    def errors(self) -> list[str]:
        return self._errors

    @errors.setter
    def errors(self, value: list[str]) -> None:
        self._errors = value


def is_empty(field: AddressField) -> bool:
    parts = field.form
    return not any((part.data or "").strip() for part in (parts.street, parts.postal_code, parts.city_name))


def check(field: AddressField) -> str | None:
    """The rule an address breaks (a key of the messages), normalizing its parts when it is valid."""
    parts = field.form
    for part in (parts.street, parts.postal_code, parts.city_name):
        part.data = (part.data or "").strip()
    if parts.country.data not in {code for code, _name in parts.country.choices}:
        return "country"
    if not parts.street.data:
        return "street"
    if parts.country.data != "FR":
        parts.city.data = ""
        return None if parts.city_name.data else "city_name"
    if not FRENCH_POSTAL_CODE.match(parts.postal_code.data):
        return "postal_code"
    if field.cities is None:
        return None if parts.city_name.data else "city_name"
    options = dict(field.communes())
    if not options:
        return "unknown_postal_code"
    if parts.city.data not in options:
        return "city_choice"
    parts.city_name.data = options[parts.city.data]
    return None


def parts(field: AddressField) -> dict[str, str]:
    """The address as stored: street, postal_code, city (INSEE), city_name, country."""
    return {key: (part.data or "").strip() for key, part in field.form._fields.items()}


def refuse_invalid(field: AddressField) -> None:
    """Stop the field's validation with the message of the first rule the address breaks, if any."""
    rule = check(field)
    if rule:
        raise StopValidation(str(DEFAULT_MESSAGES[rule]))


def required_address(_form: Any, field: AddressField) -> None:
    """A validator: an address is given, and a French one names a commune of its postal code."""
    if is_empty(field):
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))
    refuse_invalid(field)
