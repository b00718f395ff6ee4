"""A review page's content ("check your answers"): every answer of the walk, grouped by the step that asked it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from flask_babel import gettext as _

from engagement.db import utcnow
from engagement.geo import postal
from engagement.geo.countries import country_choices
from engagement.workflow import navigation, runtime
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import FieldSpec, localize
from web.db import db

UNSHOWN = ("hidden", "password")  # never read back: a hidden value is the flow's, a password the person's


@dataclass(frozen=True)
class Section:
    state: str
    title: str
    rows: list[tuple[str, str]]  # (label, answer as read)


def review_sections(flow: CompiledWorkflow, instance: WorkflowInstance, review: str, locale: str,
                    actor: Any) -> list[Section]:
    """The pages before ``review`` in this walk that asked something, each with its answers."""
    pages = navigation.walk(instance)
    before = pages[:len(pages) - pages[::-1].index(review) - 1] if review in pages else pages
    context = runtime.condition_context(flow, instance, {}, actor, utcnow(), state=review)
    sections, seen = [], set()
    for name in reversed(before):  # a page walked twice shows once, where it was last answered
        state = flow.spec.states[name]
        if name in seen or state.review or not state.fields:
            continue
        seen.add(name)
        rows = [(localize(f.label, locale) or f.name, answer(f, instance.data.get(f.name), locale))
                for f in state.fields if f.type not in UNSHOWN and runtime.visible(f, context)]
        if rows:
            sections.append(Section(name, localize(state.title, locale) or name, rows))
    return sections[::-1]


def answer(spec: FieldSpec, value: Any, locale: str) -> str:
    """One answer as a person reads it: labels for choices, dates and numbers in the page's language."""
    if value in (None, "", [], {}):
        return _("Not given")
    if spec.type in ("boolean", "consent"):
        return _("Yes") if value else _("No")
    if spec.type in ("choice", "multichoice"):
        labels = _choice_labels(spec, locale)
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if spec.type == "country":
        return dict(country_choices(locale)).get(str(value), str(value))
    if spec.type == "address" and isinstance(value, dict):
        return _address(value, locale)
    if spec.type == "date":
        try:
            return format_date(date.fromisoformat(str(value)), "long", locale=locale)
        except ValueError:
            return str(value)
    if spec.type in ("integer", "decimal"):
        try:
            return format_decimal(Decimal(str(value)), locale=locale)
        except (InvalidOperation, ValueError):
            return str(value)
    return str(value)


def _choice_labels(spec: FieldSpec, locale: str) -> dict[str, str]:
    if spec.choices is not None:
        return {key: localize(text, locale) for key, text in spec.choices}
    provider = REGISTRY.choices.get(spec.choices_from or "")
    return {key: localize(text, locale) for key, text in provider(db(), locale)} if provider else {}


def _address(parts: dict[str, Any], locale: str) -> str:
    """An address as recorded, read back with the parts of its country only: in France the directory's name
    of its commune (INSEE code), elsewhere the city typed and the country."""
    country = str(parts.get("country") or "FR")
    town = " ".join(str(p) for p in (parts.get("postal_code"), postal.city_label(parts)) if p)
    lines = [str(parts.get("street") or ""), town]
    if country != "FR":
        lines.append(dict(country_choices(locale)).get(country, country))
    return "\n".join(line for line in lines if line)
