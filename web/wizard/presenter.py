"""What the step template shows besides the form: button labels and the error summary."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from engagement.workflow.errors import WorkflowError
from engagement.workflow.spec import WorkflowSpec, localize
from forms.address import AddressField
from forms.step import StepForm

DEFAULT_BUTTONS = {
    "next": _l("Next"),
    "send": _l("Send"),
    "confirm": _l("Confirm"),
    "submit": _l("Submit"),
    "skip": _l("Skip"),
    "save": _l("Save"),
    "register": _l("Register"),
    "cancel": _l("Cancel"),
    "previous": _l("Previous"),
    "continue": _l("Continue"),
    "later": _l("Later"),
    "start": _l("Start"),
    "finish": _l("Finish"),
    "accept": _l("Accept"),
    "decline": _l("Decline"),
}


def button_label(spec: WorkflowSpec, state: str, trigger: str, locale: str) -> str:
    label = spec.transition_label(state, trigger)
    if label:
        return localize(label, locale)
    return str(DEFAULT_BUTTONS.get(trigger, trigger.replace("_", " ").capitalize()))


def error_summary(form: StepForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, first message) of each field in error, in form order.

    The step template joins label and message with the translatable "%(label)s: %(message)s" (French
    puts a no-break space before the colon); a label's own trailing colon is dropped so none doubles.
    """
    result = []
    for spec in form.state_spec.fields:
        field = form[spec.name]
        if field.errors:
            anchor = field.error_anchor if isinstance(field, AddressField) else field.id
            messages = field.errors if isinstance(field.errors, list) else []
            if messages:
                result.append((anchor, str(field.label.text).strip().rstrip(":").rstrip(), str(messages[0])))
    return result


REFUSALS = {
    "email_taken": _l("An account already uses this email address: log in, or reset your password."),
    "invalid_recipient": _l("An email address in your answers cannot receive mail. Please check it."),
    "event_closed": _l("Registration for this event is closed: it is over or was cancelled."),
    "invitation_self": _l("This is your own address: enter your friend's."),
    "invitation_opted_out": _l("This person asked not to receive our invitations any more."),
    "invitation_repeated": _l("You already invited this person in the last 7 days."),
    "invitation_recipient_limit": _l("This person has received several invitations today. Please try again "
                                     "tomorrow."),
}


def refusal_message(error: WorkflowError) -> str:
    """What the visitor reads when the engine or an action refuses a step."""
    if error.retry_after:
        minutes = max(1, -(-error.retry_after // 60))
        return ngettext("You have done this too many times. Please try again in %(num)d minute.",
                        "You have done this too many times. Please try again in %(num)d minutes.", minutes)
    if error.code in REFUSALS:
        return str(REFUSALS[error.code])
    return _("None of the ways forward applies to your answers. Please check them.")
