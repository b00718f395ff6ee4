"""The organizer's campaign form: who receives it (every member, a committee, a department, an event's
participants), the subject, the plain-text message and the name shown as its sender.

The form checks presence, lengths and the offered lists; the core (``engagement.campaigns.service``)
keeps the rules of what may be queued, and its refusals are shown next to the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, StopValidation

from engagement.campaigns.service import MAX_BODY, MAX_SUBJECT, CampaignError
from engagement.geo import departments
from forms.messages import DEFAULT_MESSAGES

MAX_SENDER = 100
KINDS = {
    "all": _l("Every member"),
    "committee": _l("The members of a committee"),
    "department": _l("The members living in a department"),
    "event": _l("The people registered for an event"),
}
AT_MOST = _l("At most %(max)d characters.")
PROBLEMS = {  # the core's refusal, by the input it is about
    "audience": _l("This audience cannot be written to any more: choose another."),
    "subject": _l("Give a subject of 1 to %(max)d characters."),
    "body": _l("Write a message of 1 to %(max)d characters."),
}


def _lf(value: str | None) -> str | None:
    """Line ends as LF: browsers send CRLF, which would count twice against the length limit."""
    return value.replace("\r\n", "\n") if value else value


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _required(_form: Any, field: Field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))


def _offered(_form: Any, field: Field) -> None:
    if field.data not in {value for value, _label in field.choices}:
        raise StopValidation(str(DEFAULT_MESSAGES["choice"]))


def _chosen_when(kind: str) -> Any:
    """The select of ``kind`` counts only when that audience is the one chosen; then it must be answered."""

    def rule(form: Any, field: Field) -> None:
        if form.audience.data != kind:
            field.errors[:] = []
            raise StopValidation()
        if not field.data or field.data not in {value for value, _label in field.choices}:
            raise StopValidation(str(DEFAULT_MESSAGES["choice"]))

    return rule


class CampaignForm(FlaskForm):
    """A campaign as an organizer writes it; ``spec`` names its audience as the core reads it."""

    audience = RadioField(_l("Who receives it"), choices=list(KINDS.items()), default="all",
                          validate_choice=False, validators=[_offered])
    committee = SelectField(_l("Committee"), validate_choice=False, default="",
                            validators=[_chosen_when("committee")])
    department = SelectField(_l("Department"), validate_choice=False, default="",
                             validators=[_chosen_when("department")])
    event = SelectField(_l("Event"), validate_choice=False, default="", validators=[_chosen_when("event")])
    subject = StringField(_l("Subject"), filters=[_strip],
                          validators=[_required, Length(max=MAX_SUBJECT, message=AT_MOST)],
                          render_kw={"maxlength": MAX_SUBJECT})
    body = TextAreaField(_l("Message"), filters=[_lf],
                         validators=[_required, Length(max=MAX_BODY, message=AT_MOST)],
                         description=_l("Plain text, sent as written. A link to unsubscribe is added below it."),
                         render_kw={"maxlength": MAX_BODY, "rows": 14})
    sender_name = StringField(_l("Sender name"), filters=[_strip],
                              validators=[Optional(), Length(max=MAX_SENDER, message=AT_MOST)],
                              description=_l("Shown before the platform's address. Leave empty to send in the "
                                             "platform's name only."),
                              render_kw={"maxlength": MAX_SENDER})
    draft = HiddenField()  # names this draft across previews: sending it twice queues one campaign

    def bind(self, committees: Sequence[tuple[str, str]], events: Sequence[tuple[str, str]]) -> CampaignForm:
        """Set the request's choices: the approved committees and the events offered, as (slug, label)."""
        self.audience.choices = [(kind, str(label)) for kind, label in KINDS.items()]
        none = ("", "—")
        self.committee.choices = [none, *committees]
        self.department.choices = [none, *((code, departments.label(code)) for code in departments.NAMES)]
        self.event.choices = [none, *events]
        return self

    def spec(self) -> str:
        """The audience as the core names it: all, committee:SLUG, department:CODE or event:SLUG."""
        kind = self.audience.data or "all"
        return "all" if kind == "all" else f"{kind}:{self._fields[kind].data}"

    def report(self, error: CampaignError) -> None:
        """Put the core's refusal next to the input it is about (for the audience, the chosen one's select)."""
        name = error.field
        if name == "audience" and self.audience.data in ("committee", "department", "event"):
            name = self.audience.data
        target = self._fields.get(name, self.audience)
        message = PROBLEMS.get(error.field, DEFAULT_MESSAGES["invalid"])
        limit = {"subject": MAX_SUBJECT, "body": MAX_BODY}.get(error.field, 0)
        target.errors = [*target.errors, str(message) % {"max": limit}]
