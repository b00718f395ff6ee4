"""A mapping or a list written where a name belongs is a diagnostic at its place, never a crash (an unhashable
value used to raise TypeError out of the checker: a traceback for `workflows check`, a 500 in the studio)."""

from __future__ import annotations

import pytest

from engagement.workflow.checker import check_text
from engagement.workflow.registry import Registry

VALID = """\
id: names
version: 1
title: Names
initial: ask
states:
  ask:
    title: Couleur
    fields:
      - name: colour
        type: choice
        label: Colour
        choices_from: colours
    on_exit:
      - mail: {template: hello, to: "someone@example.org"}
  done:
    title: Merci
    final: true
transitions:
  - trigger: next
    source: ask
    dest: done
"""


def _registry() -> Registry:
    registry = Registry(mail_templates=lambda: frozenset({"hello"}))
    registry.choices["colours"] = lambda _session, _locale: [("red", "Red")]
    return registry


def test_the_valid_file_passes():
    spec, diagnostics = check_text(VALID, "names.yml", _registry())
    assert diagnostics == [] and spec is not None


@pytest.mark.parametrize(("old", "new", "line"), [
    ("initial: ask", "initial: {}", 4),
    ("initial: ask", "initial: [ask]", 4),
    ("dest: done", "dest: {state: done}", 21),
    ("source: ask", "source: [[ask]]", 20),
    ("source: ask", "source: {ask: 1}", 20),
    ("choices_from: colours", "choices_from: [colours]", 12),
    ("template: hello,", "template: [hello],", 14),
])
def test_a_mapping_or_list_for_a_name_is_a_diagnostic(old, new, line):
    assert old in VALID
    spec, diagnostics = check_text(VALID.replace(old, new), "names.yml", _registry())
    assert spec is None
    assert any(d.line == line for d in diagnostics), [str(d) for d in diagnostics]
