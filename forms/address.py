"""The reusable ``address`` field: country (UN member states), street, postal code, and for France
the commune chosen among those carrying the postal code (INSEE code), elsewhere a free city name.

The commune directory is passed in (``CityLookup``); without one, a French address takes a free
city name too. What is recorded (``parts``) holds only the parts of the chosen country. The rule itself
is the core's (``engagement.geo.postal``); this field shows it: the list of communes, the part in error.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Form, FormField, HiddenField, SelectField, StringField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from engagement.geo import postal
from engagement.geo.countries import country_choices
from engagement.geo.postal import FRANCE, MAX_CITY_NAME, MAX_FOREIGN_POSTAL_CODE, MAX_STREET, CityLookup
from forms import cleaning
from forms.messages import DEFAULT_MESSAGES


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
        if not self.in_france:
            return []
        return postal.communes_of(self.form.postal_code.data or "", self.cities)

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
    """The rule an address breaks (a key of the messages, ``engagement.geo.postal.check``), its parts stripped;
    None when it is valid, or when it only asks for the commune of its postal code (``field.asking``)."""
    address = _address(field)
    rule = postal.check(address, field.cities)
    if rule != "characters":
        for part in (field.form.street, field.form.postal_code, field.form.city_name):
            part.data = (part.data or "").strip()
    if rule == "monaco_postal_code":
        rule = _offer_monaco(field)
    elif rule == "city_choice" and not _list_shown(field):
        field.asking, rule = True, None  # its list not shown yet (no JavaScript), it is shown: not an error
    unclean = postal.refused_part(address) if rule == "characters" else None
    field.invalid_part = unclean or postal.PART_OF_RULE.get(rule or "")
    return rule


def _address(field: AddressField) -> dict[str, Any]:
    """The parts as posted, for the core's rule."""
    return {name: field.form[name].data for name in postal.PARTS}


def _list_shown(field: AddressField) -> bool:
    """Whether the person saw the communes of this postal code (the list was on the page sent back), or named
    a commune of another postal code: then a missing or wrong commune is an error to fix."""
    return field.listed_before == field.form.postal_code.data or bool(field.posted_city and not field.listed_before)


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


def parts(field: AddressField) -> dict[str, str]:
    """The address as recorded (``engagement.geo.postal.recorded``): in France street, postal_code, city
    (INSEE) and city_name, the directory's name of that commune (never typed text); elsewhere the city_name
    typed and no commune code."""
    return postal.recorded(_address(field), field.cities)


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
