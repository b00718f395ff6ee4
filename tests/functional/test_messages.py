"""The default messages and selection hints of forms/messages.py, in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.workflow.spec import FieldSpec
from forms.messages import message, selection_hint

TOPICS = {"fr": "Sujets", "en": "Topics"}


def _in(app: Any, locale: str, render: Any) -> str:
    with app.test_request_context(headers={"Accept-Language": locale}):
        return str(render())


@pytest.mark.parametrize(("low", "high", "french", "english"), [
    (2, 2, "Choisissez 2 réponses", "Choose 2 answers"),
    (1, 1, "Choisissez 1 réponse", "Choose 1 answer"),
    (1, None, "Choisissez au moins 1 réponse", "Choose at least 1 answer"),
    (None, 3, "Choisissez jusqu’à 3 réponses", "Choose up to 3 answers"),
    (1, 3, "Choisissez entre 1 et 3 réponses", "Choose between 1 and 3 answers"),
    (None, None, "", ""),
])
def test_a_selection_hint_says_how_many_boxes_to_tick(app, low, high, french, english):
    spec = FieldSpec(name="topics", type="multichoice", label=TOPICS, min_selected=low, max_selected=high)
    assert _in(app, "fr", lambda: selection_hint(spec)) == french
    assert _in(app, "en", lambda: selection_hint(spec)) == english


@pytest.mark.parametrize(("ftype", "french", "english"), [
    ("text", "Saisissez «\u00a0Ville de naissance\u00a0»", "Enter “Town of birth”"),
    ("textarea", "Saisissez «\u00a0Ville de naissance\u00a0»", "Enter “Town of birth”"),
    ("choice", "Choisissez une réponse pour «\u00a0Ville de naissance\u00a0»", "Choose an answer for “Town of birth”"),
    ("multichoice", "Choisissez au moins une réponse pour «\u00a0Ville de naissance\u00a0»",
     "Choose at least one answer for “Town of birth”"),
    ("country", "Choisissez un pays pour «\u00a0Ville de naissance\u00a0»", "Choose a country for “Town of birth”"),
    ("boolean", "Cochez la case pour continuer", "Tick the box to continue"),
])
def test_a_missing_answer_names_its_field_with_a_verb_by_type(app, ftype, french, english):
    spec = FieldSpec(name="town", type=ftype, label={"fr": "Ville de naissance :", "en": "Town of birth"})
    assert _in(app, "fr", lambda: message(spec, "required")) == french  # the label's own colon is dropped
    assert _in(app, "en", lambda: message(spec, "required")) == english


def test_a_label_with_a_percent_sign_or_none_at_all_never_breaks_the_message(app):
    assert _in(app, "fr", lambda: message(FieldSpec(name="rate", type="decimal", label={"fr": "Taux (%)"}),
                                          "required")) == "Saisissez «\u00a0Taux (%)\u00a0»"
    assert _in(app, "en", lambda: message(FieldSpec(name="zip_code", type="text"), "required")) == "Enter “Zip code”"


def test_a_required_exact_selection_asks_for_the_exact_number(app):
    spec = FieldSpec(name="topics", type="multichoice", label=TOPICS, required=True, min_selected=2, max_selected=2)
    assert _in(app, "fr", lambda: message(spec, "required")) == "Choisissez exactement 2 réponses"


def test_a_consent_uses_its_required_message_when_it_has_no_consent_one(app):
    spec = FieldSpec(name="terms", type="consent", label={"fr": "J'accepte"},
                     messages={"required": {"fr": "Cochez la case pour accepter", "en": "Tick to accept"}})
    assert _in(app, "fr", lambda: message(spec, "consent")) == "Cochez la case pour accepter"
