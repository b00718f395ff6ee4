"""What each field type of the workflow language takes, can say and is: the one table that the
checker (which keys a type accepts, which ``messages`` rules it can produce) and the form builder
(``forms/fields.py``: the attributes of the HTML control) both read, so they cannot drift apart.

Every field takes the common keys ``name type label help required required_if visible_if messages
validate``. Beyond them (control: the HTML control; autocomplete: the token rendered when the YAML
names none; inputmode when the control's type does not imply it):

=========== ============================================================= ============ ==============
type        keys beyond the common ones                                   control      autocomplete
=========== ============================================================= ============ ==============
text        placeholder default min_length max_length pattern autocomplete text
textarea    placeholder default min_length max_length pattern autocomplete textarea
email       placeholder default min_length max_length pattern autocomplete email        email
integer     placeholder default min max autocomplete                      number
decimal     placeholder default min max autocomplete                      number       (inputmode decimal)
date        default min max min_age max_age autocomplete                  date
boolean     default                                                       checkbox
choice      default choices choices_from                                  radios (up to 6 inline choices) or a select
multichoice default choices choices_from min_selected max_selected        checkboxes
phone       placeholder default max_length autocomplete                   tel          tel
postal_code placeholder default max_length autocomplete                   text         postal-code (inputmode numeric)
country     default autocomplete                                          select       country
address     (none: its parts carry street-address, postal-code, address-level2 and country)
consent     link                                                          checkbox
hidden      default                                                       hidden
password    placeholder min_length max_length autocomplete                password     new-password
=========== ============================================================= ============ ==============

Why some keys are left out: a browser shows no placeholder on a checkbox, a date picker, a radio
group or a select (a select starts on "Choose…"); a password is never prefilled, nor a consent box
ticked for the visitor; a phone number or a postal code is checked and normalized by its type, so
only ``max_length`` (the browser's ``maxlength`` help) makes sense on them; the password policy owns
what a password may contain (``min_length``/``max_length`` may only narrow it); checkboxes, radios
and hidden inputs take no ``autocomplete``. ``min``/``max`` are numbers on integer and decimal
fields and ISO dates (``2025-01-31``) on date fields; ``default`` holds what the control holds (a
number, an ISO date, true/false, a choice key, a list of keys, an ISO country code, or text; text,
numbers, dates, choice keys and countries may be a ``{{ template }}``). A consent box's ``link`` is a path
of this site (``/charte-des-benevoles``: it starts with one ``/``) where the terms it accepts are read; the
link is shown after the box's label, outside it, so that following it never ticks the box.

A field's ``messages`` may word the rules its type can break: ``required`` (``consent`` for a consent
box), the rules of the keys it takes (``min_length``...), those of its type (``email``...; ``characters``
on every text type and the address: a control or bidi character, ``engagement.text``), and those its
registered ``validate`` checks return.
"""

from __future__ import annotations

from dataclasses import dataclass

from engagement.i18n import N_, Phrase
from engagement.workflow.spec import FIELD_TYPES

COMMON_KEYS = frozenset({"name", "type", "label", "help", "required", "required_if", "visible_if", "messages",
                         "validate"})
RULE_KEYS = frozenset({"min", "max", "min_length", "max_length", "pattern", "min_age", "max_age", "min_selected",
                       "max_selected"})  # keys whose rule is named after them in ``messages``
TEXT_KEYS = frozenset({"placeholder", "default", "min_length", "max_length", "pattern", "autocomplete"})
NUMBER_KEYS = frozenset({"placeholder", "default", "min", "max", "autocomplete"})
CHOICE_KEYS = frozenset({"default", "choices", "choices_from"})


@dataclass(frozen=True)
class FieldType:
    """One row of the table: the keys a type takes beyond the common ones, and how it renders."""

    keys: frozenset[str]
    own_rules: frozenset[str]  # rules the type itself can break, besides those of its keys
    control: str  # the HTML control: an input type, textarea, select, checkbox(es), radios, address
    value: str  # what `default` (and `min`/`max`) hold: text, integer, decimal, date, boolean, key, keys, country
    autocomplete: str | None = None  # the token rendered when the YAML names none
    inputmode: str | None = None

    @property
    def rules(self) -> frozenset[str]:
        """Every ``messages`` rule a field of this type can produce (registered checks add theirs)."""
        return self.own_rules | (self.keys & RULE_KEYS)


def _type(keys: frozenset[str] | set[str], rules: set[str], control: str, value: str = "text",
          autocomplete: str | None = None, inputmode: str | None = None) -> FieldType:
    own = rules if "consent" in rules else {"required", *rules}
    return FieldType(frozenset(keys), frozenset(own), control, value, autocomplete, inputmode)


TYPES: dict[str, FieldType] = {  # in the order of spec.FIELD_TYPES
    "text": _type(TEXT_KEYS, {"characters"}, "text"),
    "textarea": _type(TEXT_KEYS, {"characters"}, "textarea"),
    "email": _type(TEXT_KEYS, {"characters", "email", "email_domain", "email_mailbox_length", "email_length"},
                   "email", autocomplete="email"),
    "integer": _type(NUMBER_KEYS, {"integer"}, "number", "integer"),
    "decimal": _type(NUMBER_KEYS, {"decimal"}, "number", "decimal", inputmode="decimal"),
    "date": _type({"default", "min", "max", "min_age", "max_age", "autocomplete"}, {"date"}, "date", "date"),
    "boolean": _type({"default"}, set(), "checkbox", "boolean"),
    "choice": _type(CHOICE_KEYS, {"choice"}, "radios or select", "key"),
    "multichoice": _type(CHOICE_KEYS | {"min_selected", "max_selected"}, {"choice"}, "checkboxes", "keys"),
    "phone": _type({"placeholder", "default", "max_length", "autocomplete"}, {"characters", "phone"}, "tel",
                   autocomplete="tel"),
    "postal_code": _type({"placeholder", "default", "max_length", "autocomplete"}, {"characters", "postal_code"},
                         "text", autocomplete="postal-code", inputmode="numeric"),
    "country": _type({"default", "autocomplete"}, {"country"}, "select", "country", autocomplete="country"),
    "address": _type(set(), {"country", "street", "postal_code", "unknown_postal_code", "city_choice", "city_name",
                             "long_street", "long_city_name", "characters"},
                     "address"),
    "consent": _type({"link"}, {"consent"}, "checkbox", "boolean"),
    "hidden": _type({"default"}, {"characters"}, "hidden"),
    "password": _type({"placeholder", "min_length", "max_length", "autocomplete"},
                      {"too_short", "too_long", "too_common"}, "password", autocomplete="new-password"),
}
if tuple(TYPES) != FIELD_TYPES:
    raise RuntimeError("fieldtypes.TYPES needs one row per field type, in the order of spec.FIELD_TYPES")

FIELD_KEYS = COMMON_KEYS.union(*(t.keys for t in TYPES.values()))
MESSAGE_RULES = frozenset().union(*(t.rules for t in TYPES.values()))


def applies_to(key: str) -> list[str]:
    """The types that take ``key`` (every type for a common key)."""
    return [name for name, row in TYPES.items() if key in COMMON_KEYS or key in row.keys]


def takes(ftype: str, key: str) -> bool:
    return key in COMMON_KEYS or key in TYPES[ftype].keys


# -- autocomplete: the WHATWG autofill tokens (HTML Living Standard, "Autofilling form controls") --
FIELD_NAMES = frozenset({
    "name", "honorific-prefix", "given-name", "additional-name", "family-name", "honorific-suffix", "nickname",
    "username", "new-password", "current-password", "one-time-code", "organization-title", "organization",
    "street-address", "address-line1", "address-line2", "address-line3", "address-level4", "address-level3",
    "address-level2", "address-level1", "country", "country-name", "postal-code", "cc-name", "cc-given-name",
    "cc-additional-name", "cc-family-name", "cc-number", "cc-exp", "cc-exp-month", "cc-exp-year", "cc-csc",
    "cc-type", "transaction-currency", "transaction-amount", "language", "bday", "bday-day", "bday-month",
    "bday-year", "sex", "url", "photo"
})
CONTACT_NAMES = frozenset({
    "tel", "tel-country-code", "tel-national", "tel-area-code", "tel-local", "tel-local-prefix",
    "tel-local-suffix", "tel-extension", "email", "impp"
})
CONTACT_KINDS = frozenset({"home", "work", "mobile", "fax", "pager"})
MODES = frozenset({"shipping", "billing"})


def autocomplete_problem(value: object) -> Phrase | None:
    """Why ``value`` is not a valid ``autocomplete`` attribute value (None when it is)."""
    if not isinstance(value, str) or not value.split():
        return Phrase(N_("autocomplete must be a text of WHATWG autofill tokens, like 'email' or "
                         "'shipping postal-code'"))
    tokens = value.lower().split()
    if tokens in (["on"], ["off"]):
        return None
    if tokens[-1] == "webauthn":
        tokens = tokens[:-1]
    if tokens and tokens[0].startswith("section-") and len(tokens[0]) > len("section-"):
        tokens = tokens[1:]
    if tokens and tokens[0] in MODES:
        tokens = tokens[1:]
    if len(tokens) == 2 and tokens[0] in CONTACT_KINDS and tokens[1] in CONTACT_NAMES:
        return None
    if len(tokens) == 1 and tokens[0] in FIELD_NAMES | CONTACT_NAMES:
        return None
    return Phrase(N_("autocomplete %(value)r is not a WHATWG autofill token (like 'email', 'given-name', "
                     "'bday', 'tel')"), {"value": value})
