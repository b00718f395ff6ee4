"""The instance explorer's search form (a GET form: filters live in the address)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from forms.text import TextForm

MAX_ID = 2**63 - 1
FIRST_YEAR, LAST_YEAR = 2000, 2999  # beyond, a day's bounds would not convert to UTC
STATUS_LABELS = {"in_progress": _l("In progress"), "completed": _l("Completed"), "abandoned": _l("Abandoned")}


class InstanceSearchForm(TextForm):
    """Filters of a workflow's instances; every one is optional."""

    class Meta:
        csrf = False  # a search changes nothing

    id = IntegerField(_l("Instance number"), validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    state = StringField(_l("State"), validators=[Optional(), Length(max=64)])
    version = SelectField(_l("Version"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[("", _l("Any")), *STATUS_LABELS.items()], validators=[Optional()])
    started_from = DateField(_l("Started from"), validators=[Optional(), lambda form, field: _plausible(field)])
    started_to = DateField(_l("Started until"), validators=[Optional(), lambda form, field: _plausible(field)])

    def bind(self, versions: Sequence[int]) -> InstanceSearchForm:
        self.version.choices = [("", _l("Any")), *((str(v), str(v)) for v in versions)]
        return self


def _plausible(field: Field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))
