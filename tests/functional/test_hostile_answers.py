"""Answers a tester sent to break the wizard: a pattern that backtracks, control characters, repeated boxes,
French numbers and postal codes, an overlong address, a restart replayed from an older page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.functional.helpers import field_error, instances, serve_workflows, text

URL = "/w/hostile"
FLOW = """\
id: hostile
version: 1
title: Essai
initial: one
states:
  one:
    title: Vos réponses
    fields:
      - {name: word, type: text, label: Mot, pattern: "(a+)+$"}
      - {name: note, type: textarea, label: Remarque}
      - {name: acts, type: multichoice, label: Actions, min_selected: 2, choices: {a: Marche, b: Tract, c: Réunion}}
      - {name: amount, type: decimal, label: Montant}
      - {name: code, type: postal_code, label: Code postal}
      - {name: home, type: address, label: Adresse}
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: one, dest: done}
"""
VALID = {"acts": ["a", "b"], "home-country": "BE", "home-street": "Rue Neuve 1", "home-postal_code": "1000",
         "home-city_name": "Bruxelles"}


@pytest.fixture
def env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return serve_workflows(env, tmp_path / "flows", hostile=FLOW)


def send(client: Any, **answers: Any) -> Any:
    client.get(URL)
    return client.post(f"{URL}/one", {**VALID, **answers, "trigger": "next"})


def test_a_pattern_that_backtracks_refuses_the_answer_instead_of_holding_the_worker(client, read):
    response = send(client, word="a" * 60 + "!")  # years of backtracking for Python's re
    assert response.status_code == 422
    assert field_error(client.last_html, "word") == "Cette valeur n’a pas le format attendu."
    assert instances(read(), "hostile")[0].state == "one"
    assert send(client, word="aaaa").status_code == 303  # a value that matches still passes


def test_control_characters_are_refused_with_a_message_and_line_breaks_stay_in_a_text_area(client, read):
    # Refused, not silently dropped (issue #23): the visitor sees what was wrong, nothing is recorded.
    assert send(client, word="a\x00a", note="ligne\x00 un\x1b\r\ndeux\x7f").status_code == 422
    assert "caractères de contrôle invisibles" in field_error(client.last_html, "word")
    assert "caractères de contrôle invisibles" in field_error(client.last_html, "note")
    assert instances(read(), "hostile")[0].state == "one"
    assert send(client, word="aa", note="ligne un\r\n\tdeux").status_code == 303
    assert instances(read(), "hostile")[0].data["note"] == "ligne un\n\tdeux"


def test_a_box_ticked_twice_counts_once(client, read):
    response = send(client, acts=["a", "a"])
    assert response.status_code == 422
    assert "au moins 2" in field_error(client.last_html, "acts")
    assert instances(read(), "hostile")[0].state == "one"


@pytest.mark.parametrize(("typed", "recorded"), [("2,5", "2.5"), ("1 234,50", "1234.50"), ("3.75", "3.75")])
def test_a_decimal_is_read_as_a_french_visitor_writes_it(client, read, typed: str, recorded: str):
    assert send(client, amount=typed).status_code == 303
    assert str(instances(read(), "hostile")[0].data["amount"]) == recorded


def test_a_postal_code_typed_in_two_groups_is_one(client, read):
    assert send(client, code="75 116").status_code == 303
    assert instances(read(), "hostile")[0].data["code"] == "75116"


def test_an_overlong_street_is_refused_at_the_street(client, read):
    response = send(client, **{"home-street": "rue " * 100})
    assert response.status_code == 422
    assert "200 caractères" in text(client.last_html)
    assert 'aria-invalid="true"' in re.search(r'<input\b[^>]*name="home-street"[^>]*>', client.last_html).group(0)
    assert 'aria-invalid' not in re.search(r'<input\b[^>]*name="home-postal_code"[^>]*>', client.last_html).group(0)
    assert instances(read(), "hostile")[0].state == "one"


def test_a_restart_confirmed_from_an_older_page_is_stale_and_discards_nothing(client, read):
    client.get(f"{URL}/restart")
    old_step = client.hidden("step")  # the confirmation page's step token, of that moment
    assert send(client).status_code == 303  # the instance moves on meanwhile (in another tab, say)
    response = client.post(f"{URL}/restart", {"step": old_step}, page="/login")
    assert response.status_code == 303 and response.headers["Location"].endswith("stale=1")
    [instance] = instances(read(), "hostile")
    assert instance.abandoned_at is None
