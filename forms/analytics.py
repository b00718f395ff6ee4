"""The analyst dashboard's filters (a GET form: filters live in the address)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, ValidationError
from wtforms.validators import Optional

from forms.text import TextForm

SOURCE_LABELS = {"invitation": _l("Through an invitation"), "direct": _l("Direct")}


class AnalyticsFilterForm(TextForm):
    """Version, start dates (UTC days, the end excluded) and source; every one optional."""

    class Meta:
        csrf = False  # reading figures changes nothing

    version = SelectField(_l("Version"), default="")
    since = DateField(_l("Started from"), validators=[Optional()])
    until = DateField(_l("Started before"), validators=[Optional()])
    source = SelectField(_l("Source"), choices=[("", _l("Any")), *SOURCE_LABELS.items()], default="")

    def bind(self, versions: Sequence[int]) -> AnalyticsFilterForm:
        self.version.choices = [("", _l("Any")), *((str(v), str(v)) for v in versions)]
        return self

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data <= self.since.data:
            raise ValidationError(_l("The end must come after the start."))
