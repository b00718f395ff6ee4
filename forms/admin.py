"""Admin forms: one account's role and its permission to see personal data, an organizer's scopes; the
"under attack" switch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, Length

from engagement.accounts.models import ROLES
from forms.text import TextForm

ROLE_LABELS = {"member": _l("Member"), "organizer": _l("Organizer"), "analyst": _l("Analyst"),
               "treasurer": _l("Treasurer"), "admin": _l("Administrator")}


class RoleForm(TextForm):
    """The role granted to an account, and whether (as an analyst) it sees personal data."""

    role = SelectField(_l("Role"), choices=[(role, ROLE_LABELS[role]) for role in ROLES])
    can_see_personal_data = BooleanField(_l("Sees personal data"))
    next = HiddenField()


class SwitchForm(TextForm):
    """Turning the "under attack" switch on or off (the button pressed says which)."""

    turn = HiddenField(validators=[AnyOf(("on", "off"))])


SCOPE_LABELS = {"national": _l("The whole movement (national)"), "department": _l("A department (referent)"),
                "committee": _l("A committee (host)")}


class ScopeForm(TextForm):
    """A scope to grant an organizer: national, or a department's code, or a committee's address name."""

    kind = SelectField(_l("Scope"), choices=list(SCOPE_LABELS.items()), default="department")
    target = StringField(_l("Department code or committee"), validators=[Length(max=80)],
                         description=_l("A department's code (75, 2A, 971) or the committee's address name "
                                        "(what follows /committees/ in its address). Empty for national."),
                         render_kw={"maxlength": 80, "autocomplete": "off", "spellcheck": "false"})

    def spec(self) -> str:
        """The scope as the core reads it: national, department:CODE or committee:SLUG."""
        kind, target = self.kind.data or "", (self.target.data or "").strip()
        return kind if kind == "national" else f"{kind}:{target}"


class RevokeScopeForm(TextForm):
    """Taking a scope back (the button's row says which)."""

    scope = HiddenField(validators=[Length(max=100)])
