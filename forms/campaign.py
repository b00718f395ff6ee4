"""The organizer's campaign forms: writing one (who receives it, the subject, the plain-text message
with its merge fields, the name shown as its sender), and confirming it (now or at a time).

The audience is one select whose first option chooses nothing: a campaign never goes to everyone
because nobody changed a default. The forms check presence, lengths and the offered lists; the
core (``engagement.campaigns``) keeps the rules of what may be queued, and its refusals are shown
next to the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, StopValidation, ValidationError

from engagement.campaigns.service import MAX_BODY, MAX_SUBJECT, CampaignError
from engagement.clock import PARIS
from forms.messages import DEFAULT_MESSAGES
from forms.text import TextForm

MAX_SENDER = 100
INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]  # the first renders the value
GROUPS = {
    "department": _l("The members living in a department"),
    "committee": _l("The members of a committee"),
    "event": _l("The people registered for an event"),
}
# The audience ``all``: the national newsletter, which reaches only the members who asked for it.
NEWSLETTER = _l("The newsletter: members who asked for it")
AT_MOST = _l("At most %(max)d characters.")
PROBLEMS = {  # the core's refusal, by the input it is about
    "audience": _l("This audience cannot be written to any more: choose another."),
    "subject": _l("Give a subject of 1 to %(max)d characters."),
    "body": _l("Write a message of 1 to %(max)d characters."),
    "merge": _l("Only {{ first_name }} and {{ last_name }} can be filled in for each recipient: correct the "
                "other names between double braces."),
}
PROBLEMS["subject_merge"] = PROBLEMS["merge"]
PROBLEMS.update(dict.fromkeys(("subject_characters", "body_characters", "sender_characters"),
                              DEFAULT_MESSAGES["characters"]))
FIELDS = {"merge": "body", "subject_merge": "subject", "subject_characters": "subject",
          "body_characters": "body", "sender_characters": "sender_name"}


def _lf(value: str | None) -> str | None:
    """Line ends as LF: browsers send CRLF, which would count twice against the length limit."""
    return value.replace("\r\n", "\n") if value else value


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _required(_form: Any, field: Field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(str(DEFAULT_MESSAGES["required"]))


def _chosen(form: Any, field: Field) -> None:
    """An audience must be picked, and one of those offered to this organizer."""
    if not field.data:
        raise StopValidation(str(_l("Choose who receives the campaign.")))
    if field.data not in form.offered:
        raise StopValidation(str(DEFAULT_MESSAGES["choice"]))


class CampaignForm(TextForm):
    """A campaign as an organizer writes it; ``audience`` is its audience as the core names it."""

    audience = SelectField(_l("Who receives it"), validate_choice=False, default="", validators=[_chosen],
                           description=_l("Only the audiences you may write to are offered."))
    subject = StringField(_l("Subject"), filters=[_strip],
                          validators=[_required, Length(max=MAX_SUBJECT, message=AT_MOST)],
                          render_kw={"maxlength": MAX_SUBJECT})
    body = TextAreaField(_l("Message"), filters=[_lf],
                         validators=[_required, Length(max=MAX_BODY, message=AT_MOST)],
                         description=_l("Plain text, sent as written. {{ first_name }} and {{ last_name }} are "
                                        "replaced by each recipient's own. A link to unsubscribe is added below it."),
                         render_kw={"maxlength": MAX_BODY, "rows": 14})
    sender_name = StringField(_l("Sender name"), filters=[_strip],
                              validators=[Optional(), Length(max=MAX_SENDER, message=AT_MOST)],
                              description=_l("Shown before the platform's address. Leave empty to send in the "
                                             "platform's name only."),
                              render_kw={"maxlength": MAX_SENDER})

    offered: frozenset[str] = frozenset()

    def bind(self, everyone: bool, groups: dict[str, Sequence[tuple[str, str]]]) -> CampaignForm:
        """Offer these audiences only: everyone (when ``everyone``), then (spec, label) by kind."""
        top = [("", str(_l("Choose…"))), *([("all", str(NEWSLETTER))] if everyone else [])]
        choices: dict[str | None, list[tuple[str, str]]] = {None: top}
        for kind, options in groups.items():
            if options:
                choices[str(GROUPS[kind])] = list(options)
        self.audience.choices = choices  # WTForms takes option groups as a dict (None: no group)
        self.offered = frozenset(spec for options in choices.values() for spec, _label in options if spec)
        return self

    def report(self, error: CampaignError) -> None:
        """Put the core's refusal next to the input it is about."""
        target = self._fields.get(FIELDS.get(error.field, error.field), self.audience)
        message = PROBLEMS.get(error.field, DEFAULT_MESSAGES["invalid"])
        limit = {"subject": MAX_SUBJECT, "body": MAX_BODY}.get(error.field, 0)
        target.errors = [*target.errors, str(message) % {"max": limit}]


def _existing_time(_form: Any, field: Field) -> None:
    """A local time the clocks skip (02:30 the night they go forward) does not exist: say so."""
    if field.data is None:
        return
    if field.data.replace(tzinfo=PARIS).astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != field.data:
        raise ValidationError(str(_l("This time does not exist on that day (the clocks change).")))


def _time_parsed(_form: Any, field: Field) -> None:
    if field.raw_data and str(field.raw_data[0]).strip() and (field.process_errors or field.data is None):
        field.errors[:] = []
        raise StopValidation(str(_l("Enter a date and a time.")))


class ConfirmForm(TextForm):
    """The deliberate act: tick the box naming the audience and its size, then send now or at a time."""

    audience = HiddenField()  # the audience shown (its spec): a draft whose audience changed since refuses, and says so
    confirm = BooleanField()
    schedule = BooleanField()  # the "schedule" button (send_at then required); else "send now"
    send_at = DateTimeLocalField(_l("Send it later (optional)"), format=INPUT_FORMATS,
                                 validators=[_time_parsed, Optional(), _existing_time],
                                 description=_l("Paris time. Leave empty to send it now."))

    def moment(self) -> datetime | None:
        """The send time asked for, as UTC; None: now."""
        return self.send_at.data.replace(tzinfo=PARIS).astimezone(UTC) if self.send_at.data else None


class TestForm(TextForm):
    """"Send me a test": a button (and the CSRF token)."""
