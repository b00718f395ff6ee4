"""Hypothesis strategies: one-step workflows over every field type with random but valid values for every key
that applies to it (engagement/workflow/fieldtypes.py), each with the answer a visitor would validly post.

A case is built from its valid answer outwards (a value first, then bounds, lengths and a pattern it meets), so
that the valid post must pass every rule the keys set.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import yaml
from hypothesis import strategies as st

from engagement.workflow.fieldtypes import TYPES

Answer = dict[str, Any]
PRINTABLE = string.ascii_letters + string.digits + " .,;:!?'-_()/àéèçôÉ«»"
CHOICES_FROM = {"choice": ["invitation.genders", "invitation.positions", "invitation.projects"],
                "multichoice": ["invitation.interests", "invitation.reasons"]}
OFFERED = "<offered>"  # an answer to read from the page (a key of a ``choices_from`` set)
TOKENS = {
    "text": ["name", "given-name", "family-name", "nickname", "organization", "off", "on",
             "section-work shipping address-line1"],
    "email": ["email", "work email", "off", "section-friend email"],
    "password": ["new-password", "current-password", "off"],
    "phone": ["tel", "mobile tel", "tel-national", "billing work tel"],
    "postal_code": ["postal-code", "shipping postal-code", "off"],
    "integer": ["bday-year", "cc-exp-year", "off"],
    "date": ["bday", "off", "section-x bday"],
    "country": ["country", "shipping country", "off"],
}
TOKENS["textarea"] = TOKENS["text"]
TOKENS["decimal"] = TOKENS["integer"]


@dataclass
class Case:
    """One generated field: its YAML mapping and what a visitor posts as a valid answer."""

    body: dict[str, Any]
    answer: Answer = field(default_factory=dict)


def words(min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    return st.text(PRINTABLE, min_size=min_size, max_size=max_size).filter(lambda s: s.strip() != "")


def texts() -> st.SearchStrategy[dict[str, str]]:
    return st.builds(lambda fr, en: {"fr": fr, "en": en}, words(), words())


def _lengths(draw: Any, body: dict[str, Any], value: str, keys: frozenset[str]) -> None:
    if "min_length" in keys and draw(st.booleans()):
        body["min_length"] = draw(st.integers(0, len(value.strip())))
    if "max_length" in keys and draw(st.booleans()):
        body["max_length"] = draw(st.integers(len(value), len(value) + 60))


def _common(draw: Any, body: dict[str, Any], ftype: str, full: bool) -> None:
    """Placeholder, autocomplete, help and messages, when the type takes them."""
    keys = TYPES[ftype].keys
    if "placeholder" in keys and (full or draw(st.booleans())):
        body["placeholder"] = draw(st.one_of(words(), texts()))
    if "autocomplete" in keys and (full or draw(st.booleans())):
        body["autocomplete"] = draw(st.sampled_from(TOKENS[ftype]))
    if draw(st.booleans()):
        body["help"] = draw(texts())
    rules = sorted(TYPES[ftype].rules)
    chosen = draw(st.lists(st.sampled_from(rules), unique=True, max_size=3)) if not full else rules
    if chosen:
        body["messages"] = {rule: draw(texts()) for rule in chosen}


@st.composite
def text_like(draw: Any, ftype: str, full: bool) -> Case:
    keys = TYPES[ftype].keys
    local = draw(st.text("abcdefghij", min_size=1, max_size=12))
    value = {"email": f"{local}@exemple.fr", "phone": "06 12 34 56 78", "postal_code": "94320",
             "password": f"Vache-{local}-Orange-42"}.get(ftype, local)
    body: dict[str, Any] = {}
    _lengths(draw, body, value, keys)
    if full:
        body.setdefault("max_length", len(value) + draw(st.integers(0, 30)))
        if "min_length" in keys:
            body.setdefault("min_length", draw(st.integers(0, len(value))))
    if "pattern" in keys and (full or draw(st.booleans())):
        body["pattern"] = draw(st.sampled_from([".*", r"[a-j]+@exemple\.fr" if ftype == "email" else "[a-j]+",
                                                f"{value[0]}.*", r"\S+"]))
    if "default" in keys and (full or draw(st.booleans())):
        body["default"] = draw(st.one_of(words(0, 20), st.just("v{{ instance.version }}")))
    return Case(body, {"": value})


@st.composite
def number(draw: Any, ftype: str, full: bool) -> Case:
    value = draw(st.integers(-10_000, 10_000))
    shown: Any = value if ftype == "integer" else value / 100
    below = draw(st.integers(0, 500))
    above = draw(st.integers(0, 500))
    body: dict[str, Any] = {}
    if full or draw(st.booleans()):
        body["min"] = value - below if ftype == "integer" else (value - below) / 100
    if full or draw(st.booleans()):
        body["max"] = value + above if ftype == "integer" else (value + above) / 100
    if full or draw(st.booleans()):
        body["default"] = value + draw(st.integers(-3, 3)) if ftype == "integer" else round(shown, 1)
    return Case(body, {"": str(shown)})


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@st.composite
def a_date(draw: Any, ftype: str, full: bool) -> Case:
    today = date.today()
    birth = draw(st.dates(date(1910, 1, 1), today - timedelta(days=2)))
    age = age_on(birth, today)
    body: dict[str, Any] = {}
    if full or draw(st.booleans()):
        body["min"] = (birth - timedelta(days=draw(st.integers(0, 4000)))).isoformat()
    if full or draw(st.booleans()):
        body["max"] = (birth + timedelta(days=draw(st.integers(0, 4000)))).isoformat()
    if full or draw(st.booleans()):  # a day of margin: "today" is Paris's, the test's clock may be UTC
        body["min_age"] = draw(st.integers(0, max(age - 1, 0)))
    if full or draw(st.booleans()):
        body["max_age"] = draw(st.integers(age + 1, age + 60))
    if full or draw(st.booleans()):
        body["default"] = draw(st.sampled_from([birth.isoformat(), "2000-02-29"]))
    return Case(body, {"": birth.isoformat()})


@st.composite
def choosing(draw: Any, ftype: str, full: bool) -> Case:
    body: dict[str, Any] = {}
    if draw(st.booleans()):
        body["choices_from"] = draw(st.sampled_from(CHOICES_FROM[ftype]))
        answer: Any = [OFFERED] if ftype == "multichoice" else OFFERED
        if ftype == "multichoice":
            body["min_selected"], body["max_selected"] = draw(st.integers(0, 1)), draw(st.integers(1, 5))
        return Case(body, {"": answer})
    keys = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=10,
                         unique=True))
    body["choices"] = {key: draw(st.one_of(texts(), words())) for key in keys}
    if ftype == "choice":
        answer = draw(st.sampled_from(keys))
        if full or draw(st.booleans()):
            body["default"] = draw(st.sampled_from(keys))
        return Case(body, {"": answer})
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, unique=True))
    if full or draw(st.booleans()):
        body["min_selected"] = draw(st.integers(0, len(chosen)))
    if full or draw(st.booleans()):
        body["max_selected"] = draw(st.integers(len(chosen), len(keys) + 2))
    if full or draw(st.booleans()):
        body["default"] = draw(st.lists(st.sampled_from(keys), unique=True))
    return Case(body, {"": chosen})


@st.composite
def other(draw: Any, ftype: str, full: bool) -> Case:
    body: dict[str, Any] = {}
    if ftype == "boolean":
        if full or draw(st.booleans()):
            body["default"] = draw(st.booleans())
        return Case(body, {"": "y"})
    if ftype == "consent":
        if full or draw(st.booleans()):
            body["link"] = draw(st.sampled_from(["/charte-des-benevoles", "/", "/pages/statuts#article-2"]))
        return Case(body, {"": "y"})
    if ftype == "country":
        if full or draw(st.booleans()):
            body["default"] = draw(st.sampled_from(["FR", "BE", "DE", "CH"]))
        return Case(body, {"": "BE"})
    if ftype == "address":
        return Case(body, {"-country": "BE", "-street": "1 rue Haute", "-postal_code": "1000",
                           "-city_name": "Bruxelles", "-city": ""})
    value = draw(words(1, 20))
    body["default"] = value
    return Case(body, {"": value})


BUILDERS = {"text": text_like, "textarea": text_like, "email": text_like, "password": text_like,
            "phone": text_like, "postal_code": text_like, "integer": number, "decimal": number, "date": a_date,
            "choice": choosing, "multichoice": choosing}


@st.composite
def field_case(draw: Any, ftype: str, name: str, full: bool) -> Case:
    """One field of ``ftype`` called ``name``, with its valid answer keyed by control name."""
    builder = BUILDERS.get(ftype, other)
    case = draw(builder(ftype, full))
    body: dict[str, Any] = {"name": name, "type": ftype}
    if ftype != "hidden":
        body["label"] = draw(texts())
    must = (ftype == "hidden" and "default" in case.body) or ftype == "consent"  # a consent box is always required
    body["required"] = True if must else draw(st.booleans())
    if ftype == "email" and draw(st.booleans()):
        body["validate"] = "accounts.email_available"
    body.update(case.body)
    _common(draw, body, ftype, full)
    return Case(body, {f"{name}{suffix}": value for suffix, value in case.answer.items()})


@st.composite
def workflow(draw: Any, workflow_id: str, ftype: str, full: bool) -> tuple[str, Answer, str]:
    """(YAML text, valid answer, the field's name) of a one-step workflow around one generated field."""
    main = draw(field_case(ftype, "answer", full))
    fields, answer = [], dict(main.answer)
    if draw(st.booleans()):  # conditions over an earlier field of the step
        fields.append({"name": "gate", "type": "boolean", "label": {"fr": "Porte", "en": "Gate"}})
        for key in draw(st.lists(st.sampled_from(["visible_if", "required_if"]), min_size=1, unique=True)):
            main.body[key] = draw(st.sampled_from(["data.gate", "data.gate == true", "not (data.gate is none)"]))
        answer["gate"] = "y"
    fields.append(main.body)
    route = draw(st.sampled_from(["data.answer is not none", "data.answer", "data.gate if data.gate else false"]
                                 if fields[0]["name"] == "gate" else ["data.answer is not none", "data.answer"]))
    document = {
        "id": workflow_id, "version": 1, "title": {"fr": f"Généré {workflow_id}", "en": "Generated"},
        "initial": "ask",
        "states": {"ask": {"title": {"fr": "Étape", "en": "Step"}, "fields": fields}, "route": None,
                   "kept": {"final": True, "title": {"fr": "Retenu", "en": "Kept"}},
                   "other": {"final": True, "title": {"fr": "Autre", "en": "Other"}}},
        "transitions": [{"trigger": "next", "source": "ask", "dest": "route"},
                        {"trigger": "go", "source": "route", "dest": "kept", "conditions": route},
                        {"trigger": "go", "source": "route", "dest": "other"}],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False), answer, "answer"
