"""Labels a person reads must exist in French (workflow language 1.1): each missing one is a diagnostic."""

from __future__ import annotations

from engagement.workflow.checker import check_text
from engagement.workflow.registry import Registry
from engagement.workflow.spec import DEFAULT_TRIGGERS
from web.wizard.presenter import DEFAULT_BUTTONS

LABELLED = """\
id: sample
version: 1
title: {fr: Échantillon, en: Sample}
initial: ask
states:
  ask:
    title: {fr: Vous, en: You}
    fields:
      - {name: first_name, type: text, label: {fr: Prénom, en: First name}}
      - {name: token, type: hidden}
      - {name: size, type: choice, label: Taille, choices: {s: {fr: Petite, en: Small}, l: Grande}}
  route: {}
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: ask, dest: route}
  - {trigger: postpone, source: ask, dest: done, label: {fr: Remettre à plus tard, en: Postpone}}
  - {trigger: go, source: route, dest: done}
"""


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(needle)


def check(text: str) -> list[tuple[int, int, str]]:
    spec, diagnostics = check_text(text, "sample.yml", Registry())
    assert (spec is None) == bool(diagnostics)
    return [(d.line, d.column, d.message) for d in diagnostics]


def test_a_file_labelled_in_french_checks_clean_and_automatic_states_and_hidden_fields_need_none():
    assert check(LABELLED) == []


def test_a_field_label_in_english_only_is_refused_at_the_field():
    text = LABELLED.replace("label: {fr: Prénom, en: First name}", "label: {en: First name}")

    assert check(text) == [(*where(text, "first_name"), "field 'first_name' needs a label in French (fr)")]


def test_a_shown_state_without_a_title_is_refused_at_its_name_final_pages_included():
    text = LABELLED.replace("    title: {fr: Vous, en: You}\n", "").replace("final: true, title: Merci", "final: true")

    found = check(text)

    assert found == [(*where(text, "ask:"), "state 'ask' is shown to visitors and needs a title in French (fr)"),
                     (*where(text, "done:"), "state 'done' is shown to visitors and needs a title in French (fr)")]


def test_a_button_without_a_label_is_refused_unless_its_trigger_has_a_built_in_text():
    text = LABELLED.replace(", label: {fr: Remettre à plus tard, en: Postpone}", "")

    [(line, column, message)] = check(text)

    assert (line, column) == where(text, "postpone")
    assert message.startswith("the button 'postpone' of state 'ask' needs a label in French (fr)")


def test_a_choice_without_french_text_and_a_workflow_without_title_are_refused():
    text = LABELLED.replace("s: {fr: Petite, en: Small}", "s: {en: Small}").replace(
        "title: {fr: Échantillon, en: Sample}\n", "")

    messages = [message for _line, _column, message in check(text)]

    assert messages == ["the workflow needs a title in French (fr): every page shows it",
                        "choice 's' of field 'size' needs a label in French (fr)"]


def test_every_built_in_trigger_has_a_translated_button_text():
    assert set(DEFAULT_TRIGGERS) <= set(DEFAULT_BUTTONS)


def test_a_consent_box_that_may_stay_empty_is_refused_at_its_required_key():
    text = LABELLED.replace("      - {name: token, type: hidden}\n",
                            "      - {name: token, type: hidden}\n      - {name: ok, type: consent, label: OK, "
                            "required: false}\n")

    [(line, column, message)] = check(text)

    assert (line, column) == where(text, "false")
    assert message.startswith("a consent box must be ticked")
