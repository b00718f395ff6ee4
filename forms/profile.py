"""The member's profile form: address (the same field as in workflows), topics, newsletter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from forms import address
from forms.address import AddressField, CityLookup
from forms.fields import MultiCheckboxField
from forms.text import TextForm


class ProfileForm(TextForm):
    address = AddressField(_l("Address"), validators=[address.required_address])
    interests = MultiCheckboxField(_l("Topics"), choices=[], validate_choice=True)
    newsletter = BooleanField(_l("I want to receive the newsletter"))

    def bind(self, locale: str, cities: CityLookup, topics: list[tuple[str, str]]) -> ProfileForm:
        self.address.bind(locale, cities)
        self.interests.choices = topics
        return self
