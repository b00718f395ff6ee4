"""Validation messages and selection hints (a field's YAML ``messages`` override the defaults).

The defaults follow the GOV.UK Design System: they say what to do, in the imperative, with no
closing full stop. A missing answer names its field by quoting the label, the one pattern that
stays grammatical for ANY label, in French as in English (a noun "Prénom", a question "Votre
âge ?", a sentence "J'ai le permis"): "Saisissez « Prénom »" / "Enter “First name”". The verb
follows the field's type: "Saisissez"/"Enter" for what is typed, "Choisissez"/"Choose" for what
is picked, "Cochez"/"Tick" for a box. A workflow that wants the friendlier "Saisissez votre
prénom" says so in its YAML (``messages: {required: ...}``), as the built-in workflows do.
"""

from __future__ import annotations

from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l

from engagement.workflow.spec import FieldSpec, localize

DEFAULT_MESSAGES = {
    "required": _l("This field is required."),
    "invalid": _l("This value is not valid."),
    "min": _l("The value must be at least %(min)s."),
    "max": _l("The value must be at most %(max)s."),
    "min_length": _l("Enter at least %(min_length)s characters."),
    "max_length": _l("Enter at most %(max_length)s characters."),
    "pattern": _l("This value does not have the expected format."),
    "choice": _l("Choose one of the options offered."),
    "email": _l("Enter a valid email address, like name@example.org."),
    "email_domain": _l("This domain cannot receive email: check the part after the @."),
    "email_mailbox_length": _l("The part before the @ is too long: 64 characters at most."),
    "email_length": _l("The email address is too long: 254 characters at most."),
    "phone": _l("Enter a valid phone number, like 06 12 34 56 78."),
    "postal_code": _l("Enter a valid postal code."),
    "consent": _l("Tick the box to continue"),
    "date": _l("Enter a valid date, like 14/07/1990"),
    "integer": _l("Enter a whole number."),
    "decimal": _l("Enter a number."),
    "country": _l("Choose a country from the list."),
    "city_name": _l("Enter the city."),
    "street": _l("Enter the street and number."),
    "long_street": _l("Shorten the street and number: 200 characters at most."),
    "long_city_name": _l("Shorten the city: 100 characters at most."),
    "unknown_postal_code": _l("No French commune has this postal code."),
    "city_choice": _l("Choose your commune in the list."),
    "monaco_postal_code": _l("Postal codes starting with 980 are Monaco’s, not France’s: Monaco is now chosen as "
                             "the country. Check the address and send it again."),
    "characters": _l("Remove the invisible control characters from this text (they often come from a copy and "
                     "paste)."),
    "email_taken": _l("An account already uses this email address: log in, or reset your password."),
    "min_age": _l("You must be at least %(min_age)s years old."),
    "max_age": _l("The age cannot be over %(max_age)s years."),
    "too_short": _l("The password must have at least 8 characters."),
    "too_long": _l("The password must have at most 128 characters."),
    "too_common": _l("This password is among the most common ones: choose another."),
}

# A missing answer, by field type: what is typed, picked or ticked (types not listed are typed).
REQUIRED_BY_TYPE = {
    "choice": _l("Choose an answer for “%(label)s”"),
    "multichoice": _l("Choose at least one answer for “%(label)s”"),
    "country": _l("Choose a country for “%(label)s”"),
    "boolean": _l("Tick the box to continue"),
}
REQUIRED_TYPED = _l("Enter “%(label)s”")

# Where a field's YAML `messages` may also be looked for when the rule itself has none.
_FALLBACK_RULE = {"exact_selected": "min_selected", "consent": "required"}


def shown_label(spec: FieldSpec, locale: str) -> str:
    """The label a visitor reads next to the control: the YAML's, else the field's name made readable."""
    return localize(spec.label, locale) or spec.name.replace("_", " ").capitalize()


def field_label(spec: FieldSpec, locale: str) -> str:
    """The label a visitor reads, without a trailing colon (quoted in a message)."""
    return shown_label(spec, locale).strip().rstrip(":").strip()


def message(spec: FieldSpec, rule: str) -> str:
    """The text for a broken ``rule`` of ``spec``: the field's own YAML message, else the default."""
    locale = str(get_locale() or "fr")
    custom = spec.messages.get(rule) or spec.messages.get(_FALLBACK_RULE.get(rule, ""))
    if custom:
        return localize(custom, locale)
    if rule == "required" and spec.type == "multichoice" and spec.min_selected:
        return _selection_message(spec, "exact_selected" if spec.min_selected == spec.max_selected else "min_selected")
    if rule == "required":
        template = REQUIRED_BY_TYPE.get(spec.type, REQUIRED_TYPED)
        return str(template) % {"label": field_label(spec, locale)}
    if rule in ("min_selected", "max_selected", "exact_selected"):
        return _selection_message(spec, rule)
    params = {k: getattr(spec, k) for k in ("min", "max", "min_length", "max_length", "min_age", "max_age")}
    return str(DEFAULT_MESSAGES[rule]) % params


def _selection_message(spec: FieldSpec, rule: str) -> str:
    if rule == "max_selected":
        num = spec.max_selected or 0
        return ngettext("Choose at most %(num)d answer", "Choose at most %(num)d answers", num)
    num = spec.min_selected or 0
    if rule == "exact_selected":
        return ngettext("Choose exactly %(num)d answer", "Choose exactly %(num)d answers", num)
    return ngettext("Choose at least %(num)d answer", "Choose at least %(num)d answers", num)


def selection_hint(spec: FieldSpec) -> str:
    """How many boxes a multichoice wants, said before any mistake ("Choose 2 answers"); "" if any number."""
    low, high = spec.min_selected or 0, spec.max_selected
    if spec.type != "multichoice" or (not low and not high):
        return ""
    if low == high:
        return ngettext("Choose %(num)d answer", "Choose %(num)d answers", low)
    if high is None:
        return ngettext("Choose at least %(num)d answer", "Choose at least %(num)d answers", low)
    if not low:
        return ngettext("Choose up to %(num)d answer", "Choose up to %(num)d answers", high)
    return ngettext("Choose between %(low)d and %(num)d answers", "Choose between %(low)d and %(num)d answers",
                    high, low=low)
