"""The expression sandbox: what the checker refuses, and what evaluation and rendering never do."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engagement.expressions import Answers, ExpressionError, evaluate, holds, parse_expression, render
from engagement.workflow.checker import check_text
from engagement.workflow.loader import LoadError, load_text
from engagement.workflow.registry import Registry


def workflow(condition: str = "true", body: str = "Hello") -> str:
    """A valid workflow whose transition condition and mail body are the given sources."""
    return f"""\
id: sample
version: 1
title: Échantillon
initial: ask
states:
  ask:
    title: Vous
    fields:
      - {{name: email, type: email, label: E-mail}}
      - {{name: age, type: integer, label: Âge}}
  done: {{final: true, title: Merci}}
transitions:
  - trigger: next
    source: ask
    dest: done
    conditions: {json.dumps(condition)}
    actions:
      - mail: {{to: "{{{{ data.email }}}}", subject: Hello, body: {json.dumps(body)}}}
"""


def context(**answers: object) -> dict[str, object]:
    return {"data": Answers(answers), "user": None, "now": None, "instance": {"id": 1, "state": "ask"}}


def test_the_sandbox_workflow_is_valid(registry: Registry):
    spec, diagnostics = check_text(workflow("data.age >= 18", "Hi {{ data.email }}"), "ok.yml", registry)

    assert diagnostics == []
    assert spec is not None


@pytest.mark.parametrize(("condition", "message"), [
    ("''.__class__.__mro__", "private attribute '__class__' is not reachable"),
    ("data.__init__", "private attribute '__init__' is not reachable"),
    ("data['__class__']", "private attribute '__class__' is not reachable"),
    ("user.__class__.__init__.__globals__", "private attribute '__globals__' is not reachable"),
    ("cycler(1, 2)", "unknown name 'cycler'"),
    ("lipsum()", "unknown name 'lipsum'"),
    ("range(10**9) | length > 0", "unknown name 'range'"),
    ("namespace(a=1)", "unknown name 'namespace'"),
    ("config", "unknown name 'config'"),
    ("user.password_hash", "user has no attribute 'password_hash'"),
    ("instance.data", "instance has no attribute 'data'"),
])
def test_checker_refuses_escapes_in_conditions(condition: str, message: str, registry: Registry):
    spec, diagnostics = check_text(workflow(condition=condition), "escape.yml", registry)

    assert spec is None
    assert any(message in d.message for d in diagnostics), diagnostics
    assert {d.line for d in diagnostics} == {16}  # the `conditions:` line


@pytest.mark.parametrize(("body", "message"), [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "private attribute '__subclasses__' is not reachable"),
    ("{{ data.__init__.__globals__ }}", "private attribute '__init__' is not reachable"),
    ("{{ cycler.__init__.__globals__.os }}", "unknown name 'cycler'"),
    ("{{ lipsum() }}", "unknown name 'lipsum'"),
    ("{% for i in range(10**9) %}x{% endfor %}", "unknown name 'range'"),
])
def test_checker_refuses_escapes_in_templates(body: str, message: str, registry: Registry):
    spec, diagnostics = check_text(workflow(body=body), "escape.yml", registry)

    assert spec is None
    assert any(message in d.message for d in diagnostics), diagnostics


@pytest.mark.parametrize(("source", "message"), [
    ("''.__class__.__mro__", "unsafe"),
    ("cycler(1, 2)", "'cycler' is undefined"),
    ("lipsum()", "'lipsum' is undefined"),
    ("range(10**9)", "'range' is undefined"),
    ("'a' * 10**9", "repetition too large"),
    ("10**9 * 'a'", "repetition too large"),
    ("'a' * 10000 * 10000 * 10000", "repetition too large"),
    ("[0] * 10**6", "repetition too large"),
    ("2 ** 1000", "exponent too large"),
    ("(9 ** 99) ** 99 ** 99", "power too large"),
    ("instance.update({'state': 'done'})", "unsafe"),
    ("data.update({'age': 99})", "not callable"),
])
def test_evaluate_refuses_escapes_and_huge_values(source: str, message: str):
    with pytest.raises(ExpressionError, match=message):
        evaluate(source, context(age=30))


@pytest.mark.parametrize("source", [
    "''.__class__",
    "data.__init__",
    "data._values",
    "instance.__class__",
    "cycler",
    "lipsum",
])
def test_evaluate_yields_nothing_for_private_or_missing_names(source: str):
    assert evaluate(source, context(age=30)) is None


def test_evaluate_keeps_small_arithmetic_and_repetition():
    assert evaluate("'-' * 3 ~ (2 ** 10) | string", context()) == "---1024"
    assert evaluate("[0] * 3", context()) == [0, 0, 0]


def test_answers_are_read_only():
    answers = {"age": 30}

    with pytest.raises(ExpressionError):
        evaluate("data.update({'age': 99})", {"data": Answers(answers)})
    with pytest.raises(ExpressionError):
        evaluate("data.pop('age')", {"data": Answers(answers)})
    assert answers == {"age": 30}


def test_answers_named_like_dict_methods_are_answers():
    assert evaluate("data.items ~ data.keys", context(items="books", keys="three")) == "booksthree"


@pytest.mark.parametrize("template", [
    "{{ ''.__class__ }}",
    "{{ data.__init__ }}",
    "{{ cycler }}",
    "{{ '{0.__class__}'.format(data) }}",
    "{{ data._values }}",
])
def test_render_shows_nothing_of_private_attributes(template: str):
    assert render(template, context(age=30)) == ""


@pytest.mark.parametrize(("template", "message"), [
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ lipsum() }}", "'lipsum' is undefined"),
    ("{{ range(10**9) | length }}", "'range' is undefined"),
    ("{{ 'a' * 10**9 }}", "repetition too large"),
    ("{{ ('ab' * 5000) * 5000 }}", "repetition too large"),
])
def test_render_refuses_escapes_and_huge_values(template: str, message: str):
    with pytest.raises(ExpressionError, match=message):
        render(template, context(age=30))


def test_html_rendering_escapes_answers():
    assert render("<p>{{ data.name }}</p>", context(name="<script>"), html=True) == "<p>&lt;script&gt;</p>"


def test_a_condition_on_an_unanswered_field_does_not_hold():
    assert holds("data.age >= 18", context(age=None)) is False
    assert holds("data.age >= 18", context(age=18)) is True


def test_python_tags_never_construct(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: Registry):
    calls: list[object] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    touched, opened = tmp_path / "touched", tmp_path / "opened"
    text = workflow().replace("id: sample\n", (
        "id: sample\n"
        f"title: !!python/object/apply:os.system ['touch {touched}']\n"
        f"description: !!python/object/apply:builtins.open ['{opened}', 'w']\n"
    ))

    spec, diagnostics = check_text(text, "evil.yml", registry)

    assert spec is None
    assert [(d.line, d.message) for d in diagnostics] == [
        (2, "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ]
    assert calls == []
    assert not touched.exists()
    assert not opened.exists()


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:builtins.open",
    "!!python/object/new:builtins.open",
    "!!python/object/apply:os.system",
])
def test_python_tags_deep_in_a_document_never_construct(tag: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    calls: list[object] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    target = tmp_path / "created"
    args = f"['{target}', 'w']" if "open" in tag else f"['touch {target}']"
    text = f"states:\n  ask:\n    fields:\n      - name: x\n        default: [1, {tag} {args}]\n"

    with pytest.raises(LoadError, match="is not allowed") as refused:
        load_text(text)

    assert refused.value.line == 5
    assert calls == []
    assert not target.exists()


@pytest.mark.parametrize("source", ['"x" | center(10**7)', '"%10000000d" | format(1)', '"x" | indent(10**7)',
                                    '"x" | wordwrap(5)', "data.items | random"])
def test_filters_that_could_build_huge_values_are_unknown_to_the_checker(source):
    with pytest.raises(ExpressionError, match="No filter named"):
        parse_expression(source)


def test_replace_is_bounded_but_works_on_ordinary_text():
    assert evaluate('"Bonjour NAME" | replace("NAME", "Lou")', {}) == "Bonjour Lou"
    with pytest.raises(ExpressionError, match="too large"):
        evaluate('("a" * 10000) | replace("a", "a" * 1000)', {})
