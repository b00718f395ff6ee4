"""The reusable ``address`` field: country (UN member states), street, postal code, and for France
the commune chosen among those carrying the postal code (INSEE code), elsewhere a free city name.

The commune directory is passed in (``CityLookup``); without one, a French address takes a free
city name too. What is recorded (``parts``) holds only the parts of the chosen country.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, HiddenField, SelectField, StringField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from engagement import text
from engagement.geo.countries import country_choices, country_of_postal_code
from forms import cleaning
from forms.messages import DEFAULT_MESSAGES
from forms.patterns import FRENCH_POSTAL_CODE

CityLookup = Callable[[str], Sequence[tuple[str, str]]]  # postal code -> [(INSEE code, name)]
MAX_FOREIGN_POSTAL_CODE = 20
MAX_STREET = 200  # characters: the longest French street names are under 100
MAX_CITY_NAME = 100
FRANCE = "FR"
# The one control a broken rule is about, marked in error (the message itself is the fieldset's).
RULE_PART = {"country": "country", "street": "street", "postal_code": "postal_code",
             "unknown_postal_code": "postal_code", "city_choice": "city", "city_name": "city_name",
             "long_street": "street", "long_city_name": "city_name", "monaco_postal_code": "country"}


class AddressForm(Form):
    """Parts named ``<name>-country``, ``-street``, ``-postal_code``, ``-city`` (INSEE), ``-city_name``.

    ``-listed`` (hidden) carries the postal code whose communes the page listed: a person sending
    that list back without a choice is told to choose; one who has not seen it yet is shown it.
    """

    country = SelectField(_l("Country"), validate_choice=False, default=FRANCE,
                          render_kw={"autocomplete": "country", "data-address-country": ""})
    street = StringField(_l("Street and number"), filters=[cleaning.line],
                         render_kw={"autocomplete": "street-address", "maxlength": MAX_STREET})
    postal_code = StringField(_l("Postal code"), filters=[cleaning.line, cleaning.postal_code], render_kw={
        "autocomplete": "postal-code", "data-address-postal-code": "", "maxlength": MAX_FOREIGN_POSTAL_CODE})
    city = SelectField(_l("Commune (France)"), validate_choice=False, choices=[],
                       render_kw={"data-address-city": ""})
    city_name = StringField(_l("City (outside France)"), filters=[cleaning.line],
                            render_kw={"autocomplete": "address-level2", "data-address-city-name": "",
                                       "maxlength": MAX_CITY_NAME})
    listed = HiddenField("Listed", render_kw={"data-address-listed": ""})


class AddressField(FormField):
    """A composite address; its rules run on the whole (a FormField itself takes no validators)."""

    def __init__(self, label: Any = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        self.rules = list(validators or [])
        super().__init__(AddressForm, label, separator="-", **kwargs)
        self._errors: list[str] = []
        self.cities: CityLookup | None = None
        self.options: list[tuple[str, str]] = []  # the communes of the postal code typed
        self.listed_before = ""  # the postal code whose communes the page sent back had listed
        self.posted_city = ""  # the commune the post named, before it is checked against the postal code
        self.prefilled = False  # from the answers recorded (Back), not from a post
        self.invalid_part: str | None = None
        self.asking = False  # a French postal code of several communes, the list not yet shown: nothing wrong

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.prefilled = formdata is None
        super().process(formdata, data, extra_filters=extra_filters)

    def bind(self, locale: str, cities: CityLookup | None) -> None:
        """Set the request's choices: countries in ``locale``, communes of the postal code typed."""
        parts = self.form
        self.cities = cities
        parts.country.choices = list(country_choices(locale))
        self.options = self.communes()
        placeholder = [("", gettext("Choose your commune"))] if len(self.options) != 1 else []
        parts.city.choices = placeholder + list(self.options)
        self._place_parts()

    def _place_parts(self) -> None:
        """Each part in its own control: the commune among those of the postal code, the list's postal code."""
        parts = self.form
        if self.prefilled and self.in_france and self.cities is not None:
            parts.city_name.data = ""  # a French commune shows in its list, never as a typed city name
        self.posted_city = (parts.city.data or "").strip()
        if len(self.options) == 1:
            parts.city.data = self.options[0][0]  # one commune carries it: nothing to choose
        elif self.posted_city not in dict(self.options):
            parts.city.data = ""  # a commune of another postal code, or abroad: none
        self.listed_before = (parts.listed.data or "").strip()
        parts.listed.data = (parts.postal_code.data or "").strip() if self.options else ""

    @property
    def in_france(self) -> bool:
        return (self.form.country.data or FRANCE) == FRANCE

    def communes(self) -> list[tuple[str, str]]:
        parts = self.form
        postal_code = (parts.postal_code.data or "").strip()
        if self.cities is None or not self.in_france or not FRENCH_POSTAL_CODE.match(postal_code):
            return []
        return list(self.cities(postal_code))

    @property
    def takes_focus(self) -> bool:
        """Asking for its commune with nothing wrong on the page: the list is where the person goes on."""
        parent = getattr(self, "_form", None)
        return self.asking and not (parent is not None and parent.errors)

    @property
    def error_anchor(self) -> str:
        """The id the error summary links to: the part in error (the street when the whole address is)."""
        return str(self.form[self.invalid_part or "street"].id)

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        self._errors, self.invalid_part, self.asking = [], None, False
        for rule in self.rules:
            try:
                rule(form, self)
            except StopValidation as stop:
                if stop.args and stop.args[0]:
                    self._errors.append(stop.args[0])
                break
        return not self._errors and not self.asking

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
    """The rule an address breaks (a key of the messages), its parts stripped; None when it is valid, or
    when it only asks for the commune of its postal code (``field.asking``)."""
    unclean = _unclean_part(field)
    rule = "characters" if unclean else _broken(field)
    field.invalid_part = unclean or RULE_PART.get(rule or "")
    return rule


def _unclean_part(field: AddressField) -> str | None:
    """The typed part holding a character the text rule refuses (``engagement.text``), if any."""
    parts = field.form
    for part in (parts.street, parts.postal_code, parts.city_name):
        if isinstance(part.data, str) and text.first_refused(part.data) is not None:
            return part.short_name
    return None


def _broken(field: AddressField) -> str | None:
    parts = field.form
    for part in (parts.street, parts.postal_code, parts.city_name):
        part.data = (part.data or "").strip()
    if parts.country.data not in {code for code, _name in parts.country.choices}:
        return "country"
    if not parts.street.data:
        return "street"
    if len(parts.street.data) > MAX_STREET:
        return "long_street"
    if len(parts.city_name.data) > MAX_CITY_NAME:
        return "long_city_name"
    if not field.in_france:
        if len(parts.postal_code.data) > MAX_FOREIGN_POSTAL_CODE:
            return "postal_code"
        return None if parts.city_name.data else "city_name"
    if not FRENCH_POSTAL_CODE.match(parts.postal_code.data):
        return "postal_code"
    if country_of_postal_code(parts.postal_code.data) == "MC":
        return _offer_monaco(field)
    if field.cities is None:
        return None if parts.city_name.data else "city_name"
    return _commune_rule(field)


def _offer_monaco(field: AddressField) -> str:
    """Monaco's postal code (980xx) with France: no French commune has it, so Monaco is chosen in France's
    place (and as the city when none is typed) for the person to check and send again; the message says so."""
    parts = field.form
    monaco = dict(parts.country.choices).get("MC")
    if monaco is None:
        return "unknown_postal_code"
    parts.country.data, parts.city.data = "MC", ""
    parts.city_name.data = parts.city_name.data or monaco
    return "monaco_postal_code"


def _commune_rule(field: AddressField) -> str | None:
    """A commune of the postal code. Its list not shown yet (no JavaScript), it is shown: not an error."""
    city, postal_code = (field.form.city.data or "").strip(), field.form.postal_code.data
    if not field.options:
        return "unknown_postal_code"
    if city in dict(field.options):
        return None
    if field.listed_before == postal_code or (field.posted_city and not field.listed_before):
        return "city_choice"  # the list was on the page, or a commune this postal code does not carry
    field.asking = True
    return None


def parts(field: AddressField) -> dict[str, str]:
    """The address as recorded, the parts of its country only. In France: street, postal_code, city (INSEE)
    and city_name, the directory's name of that commune (never typed text); elsewhere the city_name typed
    and no commune code."""
    form = field.form
    country = (form.country.data or FRANCE).strip()
    street, postal_code = (form.street.data or "").strip(), (form.postal_code.data or "").strip()
    if country == FRANCE and field.cities is not None:
        code = (form.city.data or "").strip()
        name = dict(field.options).get(code, "")
        return {"street": street, "postal_code": postal_code, "city": code if name else "", "city_name": name,
                "country": FRANCE}
    return {"street": street, "postal_code": postal_code, "city": "",
            "city_name": (form.city_name.data or "").strip(), "country": country}


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
