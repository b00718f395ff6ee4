"""Translatable texts the core produces without knowing the reader's language (no Flask, no Babel).

The core writes English: ``N_`` marks a template so ``pybabel extract -k N_`` puts it in the catalogue,
and a ``Phrase`` keeps that template with its parameters. ``str(phrase)`` is the English text (what the
command line prints); a page passes its own ``gettext`` to ``render`` and reads it in its language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MARKED: set[str] = set()  # every template marked so far: a test checks each has a French translation


def N_(template: str) -> str:
    """Mark ``template`` for extraction; it is returned unchanged (and remembered in ``MARKED``)."""
    MARKED.add(template)
    return template


def _same(template: str) -> str:
    return template


@dataclass(frozen=True)
class Phrase:
    """An English ``%(name)s`` template and its parameters; a parameter may itself be a Phrase."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str] = _same) -> str:
        """The text, each template (this one and nested ones) passed through ``translate`` first."""
        values = {name: value.render(translate) if isinstance(value, Phrase) else value
                  for name, value in self.params.items()}
        text = translate(self.template)
        return text % values if values else text

    def __str__(self) -> str:
        return self.render()

