"""A member's committee proposal: name, description, and the same address field as the profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from forms import address
from forms.address import AddressField, CityLookup
from forms.messages import DEFAULT_MESSAGES

MAX_NAME = 100
MAX_DESCRIPTION = 2000


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _required(_form: Any, field: Field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))


def _at_most(limit: int) -> Callable[[Any, Field], None]:
    def rule(_form: Any, field: Field) -> None:
        if len(field.data or "") > limit:
            raise ValidationError(str(DEFAULT_MESSAGES["max_length"]) % {"max_length": limit})

    return rule


class CommitteeForm(FlaskForm):
    name = StringField(_l("Name of the committee"), filters=[_strip], validators=[_required, _at_most(MAX_NAME)],
                       render_kw={"maxlength": MAX_NAME})
    description = TextAreaField(_l("Description"), filters=[_strip], validators=[_at_most(MAX_DESCRIPTION)],
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
