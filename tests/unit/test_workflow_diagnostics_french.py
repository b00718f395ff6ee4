"""Every diagnostic the workflow checker can write has a French translation in the compiled catalogue,
and a diagnostic keeps its English text (what the command line prints) next to its template."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.support import Translations

from engagement.i18n import MARKED, Phrase
from engagement.workflow.checker import check_text
from engagement.workflow.loader import Diagnostic

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"
BAD = sorted((ROOT / "tests" / "fixtures" / "workflows" / "bad").glob("*.yml"))
JINJA_TEXT = "%(text)s"  # Jinja's own parse errors are passed through as they are


@pytest.fixture(scope="module")
def french() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        catalogue = Translations(handle)
    return {msgid: text for msgid, text in catalogue._catalog.items() if isinstance(msgid, str) and text}


def marked_in_the_core() -> list[tuple[str, str]]:
    """(file, template) for each ``N_("...")`` under engagement/, as ``pybabel extract -k N_`` reads them."""
    found = []
    for path in sorted((ROOT / "engagement").rglob("*.py")):
        for _line, template, _comments, _context in extract_from_file("python", str(path), keywords={"N_": None}):
            found.append((str(path.relative_to(ROOT)), template))
    return found


def templates_of(diagnostic: Diagnostic) -> set[str]:
    """The template of a diagnostic and of every phrase nested in its parameters."""
    found, todo = {diagnostic.template}, [*diagnostic.params.values()]
    while todo:
        value = todo.pop()
        if isinstance(value, Phrase):
            found.add(value.template)
            todo.extend(value.params.values())
    return found - {JINJA_TEXT}


def test_every_template_marked_in_the_core_is_translated_into_french(french):
    marked = marked_in_the_core()

    assert len(marked) > 100  # the checker, the field checker, the labels, the loader, the expressions
    assert [(path, template) for path, template in marked if template not in french] == []


def test_every_template_marked_at_run_time_is_translated_into_french(french):
    for path in BAD:
        check_text(path.read_text(encoding="utf-8"), path.name)

    assert MARKED and sorted(MARKED - set(french)) == []


@pytest.mark.parametrize("path", BAD, ids=[path.stem for path in BAD])
def test_each_bad_fixtures_diagnostics_read_in_french(path, french):
    _spec, diagnostics = check_text(path.read_text(encoding="utf-8"), path.name)

    assert diagnostics
    for diagnostic in diagnostics:
        assert diagnostic.template, f"{diagnostic} has no template: its text cannot be translated"
        assert templates_of(diagnostic) <= set(french), diagnostic
        assert diagnostic.text(lambda template: french.get(template, template)) != diagnostic.message


def test_a_diagnostic_keeps_its_english_message_and_renders_its_template_in_a_language(french):
    _spec, [diagnostic] = check_text(
        "id: x\nversion: 1\ninitial: a\nstates:\n  a: {final: true, title: A, colour: red}\ntransitions: []\n", "x.yml")

    assert str(diagnostic) == ("x.yml:5:30: error: unknown key 'colour' in state 'a' "
                               "(allowed: allow_back, automatic, fields, final, help, on_enter, on_exit, review, "
                               "sla, title)")
    assert diagnostic.template == "unknown key %(name)r in %(what)s (allowed: %(allowed)s)"
    assert diagnostic.text(lambda template: french.get(template, template)).startswith(
        "clé inconnue 'colour' dans l’état 'a' (autorisées\u00a0: allow_back, automatic")


def test_a_load_error_keeps_its_template():
    _spec, [diagnostic] = check_text("a: 1\na: 2\n", "dup.yml")

    assert diagnostic.message == "duplicate key 'a' (first at line 1)"
    assert (diagnostic.template, dict(diagnostic.params)) == ("duplicate key %(key)r (first at line %(line)s)",
                                                              {"key": "a", "line": 1})


def test_a_diagnostic_without_a_template_reads_as_it_was_written():
    diagnostic = Diagnostic("x.yml", 1, 1, "version 2 is already published")

    assert diagnostic.text(lambda template: "never called") == "version 2 is already published"
    assert Diagnostic.of("x.yml", 1, 1, "plain") == diagnostic.__class__("x.yml", 1, 1, "plain")
