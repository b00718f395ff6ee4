"""What a posted value is normalised of before any rule reads it (every text control of the wizard).

Text is normalised by the one text rule (``engagement.text``: NFC, LF line ends, trimmed; one line: tabs
and line breaks made spaces); what that rule refuses (control and bidi characters) is left in for the
field's rules to refuse with a message (``forms.fields.Rules``, ``forms.address.check``), never silently
dropped. A French visitor writes decimals with a comma and groups digits with spaces: both are read.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import DecimalField

from engagement import text as text_rule

DIGIT_GROUPS = re.compile(r"[\s\u00a0\u202f]")
SPACED_POSTAL_CODE = re.compile(r"[0-9]{2}[\s\u00a0\u202f]+[0-9]{3}")


def text(value: Any) -> Any:
    """Multi-line text normalised (tabs and line breaks kept, line ends as LF)."""
    return text_rule.normalize(value, multiline=True) if isinstance(value, str) else value


def line(value: Any) -> Any:
    """One line of text normalised: tabs and line breaks made spaces."""
    return text_rule.normalize(value) if isinstance(value, str) else value


def postal_code(value: Any) -> Any:
    """A French postal code typed in two groups (``75 116``) as one; any other code as it was typed."""
    if isinstance(value, str) and SPACED_POSTAL_CODE.fullmatch(value.strip()):
        return DIGIT_GROUPS.sub("", value)
    return value


def unique(values: Any) -> Any:
    """Ticked boxes, each once (a hand-made post may repeat a value to pass ``min_selected``)."""
    return list(dict.fromkeys(values)) if isinstance(values, list) else values


class FrenchDecimalField(DecimalField):
    """A decimal typed as a person writes it in France: ``2,5`` or ``1 234,50`` (a dot works too)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not isinstance(valuelist[0], str):
            super().process_formdata(valuelist)
            return
        typed = DIGIT_GROUPS.sub("", valuelist[0]).replace(",", ".")
        if not typed:
            self.data = None
            return
        try:
            self.data = Decimal(typed)
        except (InvalidOperation, ValueError):
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from None
