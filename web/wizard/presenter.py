"""What the step template shows besides the form: button labels and the error summary."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FormField

from engagement.workflow.spec import WorkflowSpec, localize
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
}


def button_label(spec: WorkflowSpec, state: str, trigger: str, locale: str) -> str:
    label = spec.transition_label(state, trigger)
    if label:
        return localize(label, locale)
    return str(DEFAULT_BUTTONS.get(trigger, trigger.replace("_", " ").capitalize()))


def error_summary(form: StepForm) -> list[tuple[str, str, str]]:
    """(anchor id, label, first message) of each field in error, in form order."""
    result = []
    for spec in form.state_spec.fields:
        field = form[spec.name]
        if field.errors:
            anchor = field.form.street.id if isinstance(field, FormField) else field.id
            messages = field.errors if isinstance(field.errors, list) else []
            if messages:
                result.append((anchor, str(field.label.text), str(messages[0])))
    return result
