"""French typography (tools/typography.py): the rules, what they never touch, and every French text shipped.

The last test is the regression guard: a msgstr, a workflow's ``fr:`` value, a French mail template or a
demo text written with a typewriter apostrophe or a plain space before : ; ! ? fails the suite.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NBSP, NNBSP = "\u00a0", "\u202f"


def typography_tool() -> ModuleType:
    """tools/typography.py, imported from its path (tools/ is not a package)."""
    if "typography" not in sys.modules:
        spec = importlib.util.spec_from_file_location("typography", ROOT / "tools" / "typography.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["typography"] = module
        spec.loader.exec_module(module)
    return sys.modules["typography"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Mot de passe oublié ?", f"Mot de passe oublié{NBSP}?"),
    ("Mail d'activation non reçu ?", f"Mail d’activation non reçu{NBSP}?"),
    ("M'envoyer un lien", "M’envoyer un lien"),
    ("Code postal :", f"Code postal{NBSP}:"),
    ("Code postal: 75001", f"Code postal{NBSP}: 75001"),
    ("Il déménage ; elle reste !", f"Il déménage{NBSP}; elle reste{NBSP}!"),
    ("aujourd'hui, jusqu'à, presqu'île, d'1 km", "aujourd’hui, jusqu’à, presqu’île, d’1 km"),
    ("le comité « Paris »", f"le comité «{NBSP}Paris{NBSP}»"),
    ("le comité «Paris»", f"le comité «{NBSP}Paris{NBSP}»"),
    (f"déjà juste{NBSP}: rien{NNBSP}!", f"déjà juste{NBSP}: rien{NNBSP}!"),
    ("Quoi ?!", f"Quoi{NBSP}?!"),
])
def test_french_prose_gets_the_apostrophe_and_no_break_spaces(text, expected):
    assert typography_tool().fix(text) == expected


@pytest.mark.parametrize("text", [
    "Rendez-vous à 14:30, puis 9:05",                              # times
    "https://exemple.org/a?b=c;d=e et mailto:dpo@exemple.org",   # addresses of the web
    "Écrivez à contact@exemple.org",                             # e-mail addresses
    "%(count)d/%(total)s et %s et {name} et {0:>3}",             # placeholders
    "{{ data.first_name }} et {% if x == 'a' %}oui{% endif %}",   # Jinja
    "<a href='/compte' class='x'>ici</a>",                       # attribute quotes
    "Un texte par langue {fr: …, en: …}",                         # YAML written in a message
    "comme '10 per hour' ou '5 per minute; 50 per day'",          # code in quotes
    "AT&amp;T et &#8217;",                                        # entities
    "mot&nbsp;: suite et «&nbsp;cité&nbsp;»",                     # spaces as entities
    "Passer à `next:` puis `a;b`",                                # code
])
def test_what_is_machine_read_is_left_alone(text):
    assert typography_tool().fix(text) == text


def test_a_quotation_in_typewriter_quotes_is_left_for_a_person():
    tool = typography_tool()

    assert tool.straight_quotes_left("Cliquez sur l' bouton")
    assert not tool.straight_quotes_left("Cliquez sur l'onglet")  # the rule places that one


PO = '''msgid ""
msgstr ""
"Plural-Forms: nplurals=3; plural=(n == 0 || n == 1) ? 0 : 2;\\n"

#: web/x.py:1
msgid "Forgot your password?"
msgstr "Mot de passe oublié ?"

#: web/x.py:2
msgid ""
"Your account: it is not active, and \\"quotes\\" stay"
msgstr ""
"Votre compte "
": il n'est pas actif, et les \\"guillemets\\" restent"

#: web/x.py:3
msgid "One: {n}"
msgid_plural "Many: {n}"
msgstr[0] "Un : {n}"
msgstr[1] "Plusieurs : {n}"
'''


def test_the_catalogue_is_fixed_in_place_keeping_its_lines(tmp_path):
    tool = typography_tool()
    path = tmp_path / "messages.po"
    path.write_text(PO, encoding="utf-8")

    assert tool.fix_po(path) == 4
    fixed = path.read_text(encoding="utf-8")
    assert fixed.splitlines()[2] == PO.splitlines()[2]  # the header is not prose
    assert f'msgstr "Mot de passe oublié{NBSP}?"' in fixed and 'msgid "Forgot your password?"' in fixed
    assert f'"Votre compte{NBSP}"\n": il n’est pas actif, et les \\"guillemets\\" restent"' in fixed
    assert f'msgstr[1] "Plusieurs{NBSP}: {{n}}"' in fixed
    assert len(fixed.splitlines()) == len(PO.splitlines()) and tool.check_po(path) == []


WORKFLOW = """# A comment: it stays
id: demo
title: {fr: "Un mot pour l'équipe ?", en: "A word for the team?"}
description:
  fr: Votre message est parti ! L'équipe répond.
  en: Your message is on its way! The team answers.
states:
  start:
    title: {fr: 'C''est parti', en: 'It''s on'}
"""


def test_a_workflow_keeps_its_layout_and_only_french_values_change(tmp_path):
    tool = typography_tool()
    path = tmp_path / "demo.yml"
    path.write_text(WORKFLOW, encoding="utf-8")

    assert [hit.text for hit in tool.check_yaml(path, False)] == [
        "Un mot pour l'équipe ?", "Votre message est parti ! L'équipe répond.", "C'est parti"]
    assert tool.fix_yaml(path, False) == 3
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["title"] == {"fr": f"Un mot pour l’équipe{NBSP}?", "en": "A word for the team?"}
    assert data["description"]["fr"] == f"Votre message est parti{NBSP}! L’équipe répond."
    assert data["states"]["start"]["title"] == {"fr": "C’est parti", "en": "It's on"}
    assert path.read_text(encoding="utf-8").startswith("# A comment: it stays\nid: demo\n")


def test_the_whole_tool_leaves_nothing_on_a_copy(tmp_path):
    """--fix on a copy of the project's French files ends with nothing left to fix by hand."""
    tool = typography_tool()
    for path, _check, _fix in tool.sources(ROOT):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)

    assert tool.main(["--fix", "--root", str(tmp_path)]) == 0


def test_every_french_text_shipped_follows_french_typography():
    found = typography_tool().check(ROOT)

    assert not found, "run `python tools/typography.py --fix`, then review:\n" + "\n".join(map(str, found[:40]))
