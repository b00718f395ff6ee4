"""Admin forms: one account's role and its permission to see personal data; the "under attack" switch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import AnyOf

from engagement.accounts.models import ROLES

ROLE_LABELS = {"member": _l("Member"), "organizer": _l("Organizer"), "analyst": _l("Analyst"),
               "admin": _l("Administrator")}


class RoleForm(FlaskForm):
    """The role granted to an account, and whether (as an analyst) it sees personal data."""

    role = SelectField(_l("Role"), choices=[(role, ROLE_LABELS[role]) for role in ROLES])
    can_see_personal_data = BooleanField(_l("Sees personal data"))
    next = HiddenField()


class SwitchForm(FlaskForm):
    """Turning the "under attack" switch on or off (the button pressed says which)."""

    turn = HiddenField(validators=[AnyOf(("on", "off"))])
