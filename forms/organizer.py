"""Organizer forms: editing the invitation's choices, arguments and texts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from forms.text import TextForm

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
LABEL = [Optional(), Length(max=80, message=_l("At most %(max)d characters."))]
TEXT = [Optional(), Length(max=1000, message=_l("At most %(max)d characters."))]


class ContentForm(TextForm):
    """One piece: a choice's labels and arguments, or a fixed text (labels and order unused)."""

    label_fr = StringField(_l("Label in French"), validators=LABEL)
    label_en = StringField(_l("Label in English"), validators=LABEL)
    body_fr = TextAreaField(_l("Text in French"), validators=TEXT)
    body_en = TextAreaField(_l("Text in English"), validators=TEXT)
    position = IntegerField(_l("Order"), validators=[InputRequired(_l("Enter a whole number.")),
                                                     NumberRange(0, 1_000_000)])
    is_active = BooleanField(_l("Offered in the form"))


class NewChoiceForm(TextForm):
    """A new choice; its key is what answers store, so it never changes afterwards."""

    key = StringField(_l("Key"), validators=[
        DataRequired(_l("This field is required.")),
        Regexp(KEY_PATTERN, message=_l("Lower-case letters, digits and _, starting with a letter."))])
    label_fr = StringField(_l("Label in French"), validators=LABEL)
    label_en = StringField(_l("Label in English"), validators=LABEL)
    body_fr = TextAreaField(_l("Argument in French"), validators=TEXT)
    body_en = TextAreaField(_l("Argument in English"), validators=TEXT)
