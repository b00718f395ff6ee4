"""The studio shows the checker's diagnostics in the page's language, at their line and column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "bad" / "unknown_dest.yml"
BAD = "".join(line for line in FIXTURE.read_text(encoding="utf-8").splitlines(True) if not line.startswith("#"))
BAD_LINE = next(n for n, line in enumerate(BAD.split("\n"), 1) if "dest: nowhere" in line)
EDITOR = "/organizer/workflows/editor"
PREVIEW = "/organizer/workflows/preview"
NBSP = "\u00a0"
SOUND = """\
id: sample
version: 1
title: {fr: Échantillon, en: Sample}
initial: ask
states:
  ask:
    title: {fr: Votre âge, en: Your age}
    fields: [{name: age, type: integer, label: Âge}]
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: ask, dest: done}
"""


@pytest.fixture
def organizer(app, client):
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def check(client, source: str, url: str = EDITOR, english: bool = False) -> str:
    if english:
        client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.get(EDITOR)
    response = client.post(url, {"source": source, "action": "check"})
    assert response.status_code == 422
    return client.last_html


def rows(page: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of each diagnostic row placed under its line of the numbered source."""
    row = r'<tr class="diagnostic error" id="d\d+" data-line="(\d+)" data-column="(\d+)">.*?<td>(.*?)</td>'
    found = re.findall(row, page, re.S)
    return [(int(line), int(column), text(message).strip()) for line, column, message in found]


def summary(page: str) -> list[str]:
    """The links of the error summary above the source."""
    return [text(link) for link in re.findall(r'<li><a href="#d\d+">(.*?)</a></li>', page)]


def test_a_french_page_shows_the_diagnostic_in_french_at_its_line_and_column(organizer):
    page = check(organizer, BAD)

    assert rows(page) == [(BAD_LINE, 40, f"colonne 40{NBSP}: erreur{NBSP}: état inconnu 'nowhere'")]
    assert summary(page) == [f"ligne {BAD_LINE}, colonne 40{NBSP}: état inconnu 'nowhere'"]
    assert "unknown state" not in page


def test_an_english_page_shows_it_in_english(organizer):
    page = check(organizer, BAD, english=True)

    assert rows(page) == [(BAD_LINE, 40, "column 40: error: unknown state 'nowhere'")]
    assert summary(page) == [f"line {BAD_LINE}, column 40: unknown state 'nowhere'"]


def test_the_preview_refuses_a_bad_file_in_french_too(organizer):
    page = check(organizer, BAD, url=PREVIEW)

    assert rows(page) == [(BAD_LINE, 40, f"colonne 40{NBSP}: erreur{NBSP}: état inconnu 'nowhere'")]


@pytest.mark.parametrize(("source", "where", "french", "english"), [
    pytest.param(SOUND.replace("title: Merci}", "title: Merci, colour: red}"), (9, 37),
                 f"clé inconnue 'colour' dans l’état 'done' (autorisées{NBSP}: allow_back,",
                 "unknown key 'colour' in state 'done' (allowed: allow_back,", id="nested-phrase"),
    pytest.param(SOUND.replace("label: Âge}", "label: Âge, min_selected: 2}"), (8, 53),
                 f"min_selected ne s’applique pas à un champ integer (il s’applique à{NBSP}: multichoice)",
                 "min_selected does not apply to an integer field (it applies to: multichoice)", id="field-type"),
    pytest.param(SOUND.replace("title: {fr: Échantillon, en: Sample}", "title: {en: Sample}"), (1, 1),
                 f"le parcours a besoin d’un titre en français (fr){NBSP}: chaque page l’affiche",
                 "the workflow needs a title in French (fr): every page shows it", id="labels"),
    pytest.param(SOUND.replace("source: ask, dest: done}", "source: ask, dest: done, conditions: data.age._x}"),
                 (11, 58), "l’attribut privé '_x' n’est pas accessible", "private attribute '_x' is not reachable",
                 id="expression"),
    pytest.param(SOUND.replace("version: 1", "version: 1\nversion: 2"), (3, 1),
                 "clé en double 'version' (première à la ligne 2)", "duplicate key 'version' (first at line 2)",
                 id="loader"),
])
def test_each_kind_of_diagnostic_reads_in_the_pages_language(organizer, source, where, french, english):
    [(line, column, message)] = rows(check(organizer, source))
    assert (line, column) == where
    assert french in message

    [(line, column, message)] = rows(check(organizer, source, english=True))
    assert (line, column) == where
    assert english in message


def test_a_translated_diagnostic_escapes_what_the_file_wrote(organizer):
    page = check(organizer, BAD.replace("dest: nowhere", "dest: '<b>x</b>'"))

    assert "&lt;b&gt;x&lt;/b&gt;" in page.split("<textarea")[0] and "<b>x</b>" not in page
    assert rows(page)[0][2] == f"colonne 40{NBSP}: erreur{NBSP}: état inconnu '<b>x</b>'"
