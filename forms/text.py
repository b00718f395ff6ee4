"""The text rule (``engagement.text``) on every hand-written form: ``TextForm`` applies it to each text input.

Every form a person types into derives from ``TextForm`` instead of ``FlaskForm``: each of its text inputs
(one line, a text area, an email, a phone number, a link) is normalised first and then refused, with a
message next to it, when it holds a control or bidi character or is longer than its cap. The cap is the
field's own ``Length(max=...)`` when it declares one, else ``engagement.text``'s default (an email
address keeps the address rule's own length). Password fields are left exactly as typed (stripping or
normalising could make them another password), and hidden inputs carry what the page wrote (each checked
by its own validator). Workflow steps apply the same rule through ``forms.fields.Rules``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length, StopValidation

from engagement import text
from forms.messages import DEFAULT_MESSAGES

CHARACTERS = DEFAULT_MESSAGES["characters"]
AT_MOST = _l("At most %(max)d characters.")


class PlainText:
    """A validator: the text rule, with a cap of ``limit`` characters (0: the field's own ``Length`` caps it)."""

    def __init__(self, *, multiline: bool, limit: int) -> None:
        self.multiline, self.limit = multiline, limit

    def __call__(self, _form: Any, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        reason = text.problem(field.data, multiline=self.multiline, limit=self.limit)
        if reason == text.TOO_LONG:
            raise StopValidation(str(AT_MOST) % {"max": self.limit})
        if reason:
            raise StopValidation(str(CHARACTERS))


def normalized_line(value: Any) -> Any:
    """A filter: one line of text normalised (``engagement.text.normalize``)."""
    return text.normalize(value) if isinstance(value, str) else value


def normalized_text(value: Any) -> Any:
    """A filter: multi-line text normalised (line ends as LF)."""
    return text.normalize(value, multiline=True) if isinstance(value, str) else value


def is_typed_text(field: Field) -> bool:
    """A text input a person types into (not a password, not a hidden input)."""
    return isinstance(field, StringField) and not isinstance(field, PasswordField | HiddenField)


def default_limit(field: Field) -> int:
    """The cap ``PlainText`` applies: 0 when the field declares its own ``Length(max=...)`` or is an email."""
    if isinstance(field, EmailField) or any(isinstance(v, Length) and v.max >= 0 for v in field.validators):
        return 0
    return text.TEXT_MAX if isinstance(field, TextAreaField) else text.LINE_MAX


def apply_rule(field: Field) -> Field:
    """Give a bound text input the rule: the normalising filter first, the validator first."""
    if is_typed_text(field):
        multiline = isinstance(field, TextAreaField)
        field.filters = (normalized_text if multiline else normalized_line, *field.filters)
        field.validators = [PlainText(multiline=multiline, limit=default_limit(field)), *field.validators]
    return field


class TextForm(FlaskForm):
    """The base of every hand-written form: the text rule on each of its text inputs."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            return apply_rule(super().bind_field(form, unbound_field, options))  # type: ignore[misc]
