"""WTForms fields for each YAML field type, and the rule checker they all share."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from flask_babel import gettext
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import Choice
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from engagement import text
from engagement.accounts import passwords
from engagement.clock import PARIS
from engagement.expressions import is_template
from engagement.geo.countries import country_choices
from engagement.mail import addresses
from engagement.workflow import patterns
from engagement.workflow.fieldtypes import TYPES
from engagement.workflow.spec import FieldSpec, localize
from forms import address, cleaning
from forms.address import AddressField
from forms.messages import shown_label
from forms.patterns import FRENCH_POSTAL_CODE

log = logging.getLogger(__name__)
RADIO_MAX = 6  # up to this many choices render as radio buttons, more as a select
TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "postal_code", "hidden"})  # the text rule's
MULTILINE_TYPES = frozenset({"textarea"})


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes sharing one name."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _empty(field: Field) -> bool:
    if isinstance(field, BooleanField):
        return not field.data
    if isinstance(field, SelectMultipleField):
        return not field.data
    if isinstance(field, AddressField):
        return address.is_empty(field)
    return not field.raw_data or not str(field.raw_data[0]).strip()


class Rules:
    """Every rule of one YAML field, enforced on the server; visibility and requirement are live."""

    def __init__(self, spec: FieldSpec, message: Callable[[FieldSpec, str], str]) -> None:
        self.spec, self.message = spec, message
        self.field_flags = {"required": spec.required}

    def __call__(self, form: Any, field: Field) -> None:
        spec = self.spec
        if not form.is_visible(spec.name):
            field.errors[:] = []
            raise StopValidation()
        if _empty(field):
            field.errors[:] = []
            if form.is_required(spec.name):
                raise StopValidation(self.message(spec, "consent" if spec.type == "consent" else "required"))
            rule = _selected(spec, field)  # min_selected >= 1 asks for an answer even without `required`
            raise StopValidation(self.message(spec, rule) if rule else "")
        if field.process_errors:
            field.errors[:] = []
            raise StopValidation(self.message(spec, _TYPE_MESSAGE.get(spec.type, "invalid")))
        for check in (_finite, _password, _characters, _length, _bounds, _age, _pattern, _choices, _selected,
                      _typed):
            rule = check(spec, field)
            if rule:
                raise StopValidation(self.message(_capped(spec) if rule == "max_length" else spec, rule))
        for name in spec.validate:  # registered checks last: they may query the database
            rule = form.run_check(name, field.data)
            if rule:
                raise StopValidation(self.message(spec, rule))


_TYPE_MESSAGE = {"integer": "integer", "decimal": "decimal", "date": "date"}


def text_limit(spec: FieldSpec) -> int | None:
    """The most characters a text field takes: its ``max_length``, else the text rule's default for one line
    or for a text area, never below its ``min_length`` (an email address: the address rule's own length; a
    hidden field: the page's own value, which a template may make longer than a line typed)."""
    if spec.max_length is not None or spec.type not in TEXT_TYPES - {"email"}:
        return spec.max_length
    default = text.TEXT_MAX if spec.type in MULTILINE_TYPES | {"hidden"} else text.LINE_MAX
    return max(default, spec.min_length or 0)


def _capped(spec: FieldSpec) -> FieldSpec:
    """``spec`` with the cap it was held to, for the message ("at most 200 characters")."""
    return spec if spec.max_length is not None else dataclasses.replace(spec, max_length=text_limit(spec))


def _characters(spec: FieldSpec, field: Field) -> str | None:
    """The text rule (``engagement.text``): no control or bidi character in what a person typed."""
    if spec.type not in TEXT_TYPES or not isinstance(field.data, str):
        return None
    refused = text.first_refused(field.data, multiline=spec.type in MULTILINE_TYPES)
    return None if refused is None else "characters"


def _length(spec: FieldSpec, field: Field) -> str | None:
    if not isinstance(field.data, str):
        return None
    if spec.min_length is not None and len(field.data.strip()) < spec.min_length:
        return "min_length"
    limit = text_limit(spec)
    if limit is not None and len(field.data) > limit:
        return "max_length"
    return None


def _finite(spec: FieldSpec, field: Field) -> str | None:
    """A decimal is a number: "NaN" and "Infinity" parse as decimals and compare as none."""
    return "decimal" if isinstance(field.data, Decimal) and not field.data.is_finite() else None


def _bounds(spec: FieldSpec, field: Field) -> str | None:
    value = field.data
    if not isinstance(value, int | Decimal | date) or isinstance(value, bool):
        return None
    convert: Callable[[Any], Any] = date.fromisoformat if isinstance(value, date) else Decimal
    if spec.min is not None and value < convert(str(spec.min)):
        return "min"
    if spec.max is not None and value > convert(str(spec.max)):
        return "max"
    return None


def _age(spec: FieldSpec, field: Field) -> str | None:
    """Ages in whole years on today's date in France (a birth date at least ``min_age`` years ago)."""
    if (spec.min_age is None and spec.max_age is None) or not isinstance(field.data, date):
        return None
    today = datetime.now(PARIS).date()
    age = today.year - field.data.year - ((today.month, today.day) < (field.data.month, field.data.day))
    if spec.min_age is not None and age < spec.min_age:
        return "min_age"
    if spec.max_age is not None and age > spec.max_age:
        return "max_age"
    return None


def _password(spec: FieldSpec, field: Field) -> str | None:
    return passwords.problem(field.data) if spec.type == "password" else None


def _pattern(spec: FieldSpec, field: Field) -> str | None:
    if not spec.pattern or not isinstance(field.data, str):
        return None
    matched = patterns.matches(spec.pattern, field.data)
    if matched is None:  # the organizer's pattern backtracks: refused, and said where (no answer logged)
        log.warning("pattern of field %s took over %s s: the answer is refused", spec.name, patterns.MATCH_SECONDS)
    return None if matched else "pattern"


def _choices(spec: FieldSpec, field: Field) -> str | None:
    if spec.type not in ("choice", "multichoice", "country"):
        return None
    allowed = {key for key, _label in field.choices}
    values = field.data if isinstance(field.data, list) else [field.data]
    return None if all(v in allowed for v in values) else "choice" if spec.type != "country" else "country"


def _selected(spec: FieldSpec, field: Field) -> str | None:
    if spec.type != "multichoice":
        return None
    count = len(field.data or [])
    exact = spec.min_selected is not None and spec.min_selected == spec.max_selected
    if spec.min_selected is not None and count < spec.min_selected:
        return "exact_selected" if exact and "min_selected" not in spec.messages else "min_selected"
    if spec.max_selected is not None and count > spec.max_selected:
        return "exact_selected" if exact and "max_selected" not in spec.messages else "max_selected"
    return None


# What an email field says by the address rule's reason (engagement.mail.addresses.AddressError.kind).
EMAIL_RULES = {addresses.DOMAIN: "email_domain", addresses.MAILBOX_LENGTH: "email_mailbox_length",
               addresses.LENGTH: "email_length"}


def _typed(spec: FieldSpec, field: Field) -> str | None:
    """Type checks that also normalize the value (email, phone, postal code, address)."""
    if spec.type == "email":
        try:
            field.data = addresses.checked(field.data)  # the one address rule: what the mailer reaches
        except addresses.AddressError as refused:
            return EMAIL_RULES.get(refused.kind, "email")  # the part to fix, when it is not the syntax
    elif spec.type == "phone":
        try:
            number = phonenumbers.parse(field.data, "FR")
        except phonenumbers.NumberParseException:
            return "phone"
        if not phonenumbers.is_valid_number(number):
            return "phone"
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    elif spec.type == "postal_code":
        field.data = field.data.strip()
        if not FRENCH_POSTAL_CODE.match(field.data):
            return "postal_code"
    elif spec.type == "address":
        return address.check(field)
    return None


def make_field(spec: FieldSpec, locale: str, message: Callable[[FieldSpec, str], str]) -> Any:
    """The unbound WTForms field for a YAML field (choices of ``choices_from`` are set per request)."""
    label = shown_label(spec, locale)
    description = localize(spec.help, locale)
    kwargs: dict[str, Any] = {"label": label, "description": description, "validators": [Rules(spec, message)]}
    render_kw = control_attributes(spec, locale)
    if render_kw:
        kwargs["render_kw"] = render_kw
    return _FACTORIES[spec.type](spec, locale, kwargs)


def control_attributes(spec: FieldSpec, locale: str) -> dict[str, Any]:
    """The HTML attributes of a field's control, from the keys its type takes (``fieldtypes.TYPES``)."""
    kind = TYPES[spec.type]
    attributes = {
        "placeholder": localize(spec.placeholder, locale) if "placeholder" in kind.keys else None,
        "maxlength": text_limit(spec) if "max_length" in kind.keys else None,
        "min": spec.min if "min" in kind.keys else None,
        "max": spec.max if "max" in kind.keys else None,
        "autocomplete": (spec.autocomplete or kind.autocomplete) if "autocomplete" in kind.keys else None,
        "inputmode": kind.inputmode,
    }
    return {key: value for key, value in attributes.items() if value is not None and value != ""}


def shown_value(spec: FieldSpec, value: Any) -> Any:
    """An answer (or default) as the field's control can show it; None when it cannot (a studio preview's
    hand-edited answers, an answer of a type that changed between two versions of a file)."""
    kind = TYPES[spec.type].value
    if kind == "date":
        return _date(value)
    if kind == "keys":
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    if spec.type == "address":
        return value if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()) else None
    return value if isinstance(value, str | int | float | Decimal) else None  # a bool is an int


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _choices_of(spec: FieldSpec, locale: str) -> list[tuple[str, str]]:
    return [(key, localize(text, locale)) for key, text in spec.choices or ()]


class PromptedSelectField(SelectField):
    """A select that starts on an empty "Choose…" option: nothing is chosen for the visitor (its choices may be
    set per request, for ``choices_from``: the prompt is not one of them)."""

    def iter_choices(self) -> list[Choice]:
        prompt = Choice(value="", label=gettext("Choose…"), selected=self.data in (None, ""), render_kw=None)
        return [prompt, *super().iter_choices()]


def _country_default(spec: FieldSpec) -> str:
    """A country field starts on France unless its YAML names another (a template is rendered per step)."""
    return spec.default if isinstance(spec.default, str) and not is_template(spec.default) else "FR"


def _choice(spec: FieldSpec, locale: str, kwargs: dict[str, Any]) -> Any:
    choices = _choices_of(spec, locale)
    if spec.choices is not None and len(choices) <= RADIO_MAX:
        return RadioField(choices=choices, validate_choice=False, **kwargs)  # none checked without a default
    return PromptedSelectField(choices=choices, validate_choice=False, **kwargs)


_FACTORIES: dict[str, Callable[[FieldSpec, str, dict[str, Any]], Any]] = {
    "text": lambda s, loc, kw: StringField(**kw, filters=[cleaning.line]),
    "textarea": lambda s, loc, kw: TextAreaField(**kw, filters=[cleaning.text]),
    "email": lambda s, loc, kw: EmailField(**kw, filters=[cleaning.line]),
    "integer": lambda s, loc, kw: IntegerField(**kw),
    "decimal": lambda s, loc, kw: cleaning.FrenchDecimalField(**kw, places=None),
    "date": lambda s, loc, kw: DateField(**kw),
    "boolean": lambda s, loc, kw: BooleanField(**kw),
    "consent": lambda s, loc, kw: BooleanField(**kw),
    "choice": _choice,
    "multichoice": lambda s, loc, kw: MultiCheckboxField(choices=_choices_of(s, loc), validate_choice=False,
                                                         filters=[cleaning.unique], **kw),
    "phone": lambda s, loc, kw: TelField(**kw, filters=[cleaning.line]),
    "postal_code": lambda s, loc, kw: StringField(**kw, filters=[cleaning.line, cleaning.postal_code]),
    "country": lambda s, loc, kw: SelectField(choices=list(country_choices(loc)), validate_choice=False,
                                              default=_country_default(s), **kw),
    "address": lambda s, loc, kw: AddressField(**kw),
    "hidden": lambda s, loc, kw: HiddenField(**kw, filters=[cleaning.line]),
    "password": lambda s, loc, kw: PasswordField(**kw),
}
