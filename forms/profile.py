"""The member's profile form: address (the same field as in workflows), topics, newsletter."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field
from wtforms.validators import StopValidation

from forms import address
from forms.address import AddressField, CityLookup
from forms.fields import MultiCheckboxField
from forms.messages import DEFAULT_MESSAGES


def _address_rules(_form: Any, field: Field) -> None:
    if address.is_empty(field):  # type: ignore[arg-type]
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))
    rule = address.check(field)  # type: ignore[arg-type]
    if rule:
        raise StopValidation(str(DEFAULT_MESSAGES[rule]))


class ProfileForm(FlaskForm):
    address = AddressField(_l("Address"), validators=[_address_rules])
    interests = MultiCheckboxField(_l("Topics"), choices=[], validate_choice=True)
    newsletter = BooleanField(_l("I want to receive the newsletter"))

    def bind(self, locale: str, cities: CityLookup, topics: list[tuple[str, str]]) -> ProfileForm:
        self.address.bind(locale, cities)
        self.interests.choices = topics
        return self
