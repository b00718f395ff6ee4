"""The safe YAML loader: positions, size and nesting limits, alias bombs, and no constructors."""

from __future__ import annotations

import pytest

from engagement.workflow.checker import check_text
from engagement.workflow.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES, Diagnostic, LoadError, load_text

SMALL = """\
id: sample
version: 1
title: Échantillon
initial: ask
states:
  ask:
    title: Votre âge
    fields: [{name: age, type: integer, label: Âge}]
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: ask, dest: done}
"""


def test_diagnostic_prints_path_line_column_severity_and_message():
    diagnostic = Diagnostic("workflows/sample.yml", 3, 7, "unknown state 'nowhere'")

    assert str(diagnostic) == "workflows/sample.yml:3:7: error: unknown state 'nowhere'"


def test_checker_diagnostics_print_in_the_cli_format():
    bad_line = "  - {trigger: skip, source: ask, dest: nowhere}"
    column = bad_line.index("nowhere") + 1

    _, diagnostics = check_text(SMALL + bad_line + "\n", "workflows/sample.yml")

    assert [str(d) for d in diagnostics] == [f"workflows/sample.yml:12:{column}: error: unknown state 'nowhere'"]


def test_the_small_workflow_checks_clean():
    spec, diagnostics = check_text(SMALL, "sample.yml")

    assert diagnostics == []
    assert spec is not None and spec.id == "sample"


def test_positions_are_one_based_for_keys_and_values():
    located = load_text(SMALL)

    assert located.where(("states", "done"), key=True) == (9, 3)
    assert located.where(("states", "done")) == (9, 9)
    transition_line = SMALL.splitlines()[10]
    assert located.where(("transitions", 0, "dest")) == (11, transition_line.index("done") + 1)
    assert located.where(("transitions", 0, "dest"), key=True) == (11, transition_line.index("dest") + 1)


def test_oversize_file_is_refused_before_parsing():
    text = SMALL + "# " + "x" * MAX_BYTES + "\n"

    spec, diagnostics = check_text(text, "big.yml")

    assert spec is None
    assert [(d.line, d.column) for d in diagnostics] == [(1, 1)]
    assert f"larger than {MAX_BYTES // 1024} KiB" in diagnostics[0].message


def test_size_limit_counts_bytes_not_characters():
    text = SMALL + "# " + "é" * (MAX_BYTES // 2 + 1) + "\n"
    assert len(text) < MAX_BYTES

    with pytest.raises(LoadError, match="larger than"):
        load_text(text)


def test_nesting_at_the_limit_loads_and_one_level_deeper_is_refused():
    at_limit = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)  # the innermost list sits at MAX_DEPTH
    too_deep = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)

    assert load_text(at_limit).data is not None
    with pytest.raises(LoadError) as refused:
        load_text(too_deep)
    assert (refused.value.line, refused.value.column) == (1, MAX_DEPTH + 2)
    assert f"nesting deeper than {MAX_DEPTH} levels" in refused.value.message


def test_too_deep_workflow_file_is_reported_where_the_nesting_overflows():
    nested = "[" * MAX_DEPTH + "x" + "]" * MAX_DEPTH  # the first list sits at depth 1, "x" at MAX_DEPTH + 1
    text = SMALL + f"description: {nested}\n"

    spec, diagnostics = check_text(text, "deep.yml")

    assert spec is None
    assert len(diagnostics) == 1
    assert (diagnostics[0].line, diagnostics[0].column) == (12, len("description: ") + MAX_DEPTH + 1)
    assert "nesting deeper than" in diagnostics[0].message


def test_alias_expansion_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    text = "\n".join(lines) + "\n"
    assert len(text) < 2_000  # tiny on disk, 10**9 nodes once expanded

    with pytest.raises(LoadError, match=f"more than {MAX_NODES} nodes"):
        load_text(text)


def test_duplicate_key_names_the_first_occurrence():
    with pytest.raises(LoadError) as refused:
        load_text("id: one\nversion: 1\nid: two\n")

    assert (refused.value.line, refused.value.column) == (3, 1)
    assert refused.value.message == "duplicate key 'id' (first at line 1)"


def test_empty_file_is_refused():
    spec, diagnostics = check_text("# nothing here\n", "empty.yml")

    assert spec is None
    assert [d.message for d in diagnostics] == ["the file is empty"]


def test_yaml_1_1_booleans_as_keys_stay_the_words_written():
    located = load_text("on: 1\nyes: 2\n3: three\n")

    assert located.data == {"on": 1, "yes": 2, "3": "three"}


def test_dates_stay_text():
    assert load_text("when: 2025-03-01\n").data == {"when": "2025-03-01"}


@pytest.mark.parametrize("snippet", [
    "title: !!python/object/apply:os.system ['true']",
    "title: !!python/name:os.system",
    "title: !!python/object/new:builtins.dict {}",
    "? !!python/name:os.getcwd ''\n: 1",
    "title: [ok, !!python/tuple [1, 2]]",
    "title: !custom tag",
    "title: !!binary aGVsbG8=",
    "title: !!set {a, b}",
], ids=["apply", "name", "new", "in-a-key", "in-a-list", "local-tag", "binary", "set"])
def test_non_standard_tags_are_refused(snippet: str):
    with pytest.raises(LoadError, match="is not allowed"):
        load_text(f"id: sample\n{snippet}\n")


def test_standard_explicit_tags_are_allowed():
    assert load_text("title: !!str 42\ncount: !!int '3'\n").data == {"title": "42", "count": 3}
