"""A member's committee proposal: name, description, and the same address field as the profile."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import Length, StopValidation

from forms import address
from forms.address import AddressField, CityLookup
from forms.messages import DEFAULT_MESSAGES
from forms.text import AT_MOST, TextForm

MAX_NAME = 100
MAX_DESCRIPTION = 2000


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _required(_form: Any, field: Field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))


class CommitteeForm(TextForm):
    name = StringField(_l("Name of the committee"), filters=[_strip],
                       validators=[_required, Length(max=MAX_NAME, message=AT_MOST)], render_kw={"maxlength": MAX_NAME})
    description = TextAreaField(_l("Description"), filters=[_strip],
                                validators=[Length(max=MAX_DESCRIPTION, message=AT_MOST)],
                                description=_l("What the committee does, where and when it meets."),
                                render_kw={"maxlength": MAX_DESCRIPTION})
    address = AddressField(_l("Address"), validators=[address.required_address],
                           description=_l("Where the committee meets or can be written to."))

    def bind(self, locale: str, cities: CityLookup) -> CommitteeForm:
        self.address.bind(locale, cities)
        return self

    def address_parts(self) -> dict[str, str]:
        """The address as stored: street, postal_code, city (INSEE), city_name, country."""
        return address.parts(self.address)
