"""Default validation messages (per-field YAML ``messages`` override them)."""

from flask_babel import lazy_gettext as _l

DEFAULT_MESSAGES = {
    "required": _l("This field is required."),
    "invalid": _l("This value is not valid."),
    "min": _l("The value must be at least %(min)s."),
    "max": _l("The value must be at most %(max)s."),
    "min_length": _l("Enter at least %(min_length)s characters."),
    "max_length": _l("Enter at most %(max_length)s characters."),
    "pattern": _l("This value does not have the expected format."),
    "choice": _l("Choose one of the options offered."),
    "min_selected": _l("Select at least %(min_selected)s options."),
    "max_selected": _l("Select at most %(max_selected)s options."),
    "exact_selected": _l("Select exactly %(min_selected)s options."),
    "email": _l("Enter a valid email address, like name@example.org."),
    "phone": _l("Enter a valid phone number, like 06 12 34 56 78."),
    "postal_code": _l("Enter a valid postal code."),
    "consent": _l("You must tick this box to continue."),
    "date": _l("Enter a valid date."),
    "integer": _l("Enter a whole number."),
    "decimal": _l("Enter a number."),
    "country": _l("Choose a country from the list."),
    "city_name": _l("Enter the city."),
    "street": _l("Enter the street and number."),
    "unknown_postal_code": _l("No French commune has this postal code."),
    "city_choice": _l("Choose your commune in the list."),
    "min_age": _l("You must be at least %(min_age)s years old."),
    "max_age": _l("The age cannot be over %(max_age)s years."),
    "too_short": _l("The password must have at least 8 characters."),
    "too_long": _l("The password must have at most 128 characters."),
    "too_common": _l("This password is among the most common ones: choose another."),
}
