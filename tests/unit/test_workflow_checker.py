"""The checker: every rejection of the contract, the repository's workflow files, the spec's example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engagement import PROJECT_ROOT
from engagement.core import register_builtins
from engagement.mail import service as mail
from engagement.workflow.checker import check_files, check_text
from engagement.workflow.machine import compile_spec
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import WorkflowSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
BAD_FILES = sorted((FIXTURES / "bad").glob("*.yml"))
WORKFLOW_FILES = sorted((PROJECT_ROOT / "workflows").glob("*.yml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")


def expectations(text: str) -> list[tuple[int, int, str]]:
    """The ``# expect: line:column: message`` comments heading a bad fixture file."""
    found = []
    for line in text.splitlines():
        match = EXPECT.match(line)
        if match is None:
            break
        found.append((int(match[1]), int(match[2]), match[3]))
    return found


def test_every_bad_fixture_states_what_it_expects():
    assert len(BAD_FILES) >= 25
    for path in BAD_FILES:
        assert expectations(path.read_text(encoding="utf-8")), f"{path.name} has no '# expect:' first line"


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_file_is_rejected_with_exactly_the_expected_diagnostic(path: Path, registry: Registry):
    text = path.read_text(encoding="utf-8")
    expected = expectations(text)

    spec, diagnostics = check_text(text, f"bad/{path.name}", registry)

    assert spec is None
    assert len(diagnostics) == len(expected), "\n".join(map(str, diagnostics))
    for diagnostic, (line, column, message) in zip(diagnostics, expected, strict=True):
        assert (diagnostic.path, diagnostic.line, diagnostic.column) == (f"bad/{path.name}", line, column)
        assert message in diagnostic.message
        assert str(diagnostic).startswith(f"bad/{path.name}:{line}:{column}: error: ")


def test_a_fixed_bad_file_checks_clean(registry: Registry):
    """The fixtures differ from a valid file only by their defect (here: an unknown state)."""
    text = (FIXTURES / "bad" / "unknown_dest.yml").read_text(encoding="utf-8")

    spec, diagnostics = check_text(text.replace("dest: nowhere", "dest: done"), "fixed.yml", registry)

    assert diagnostics == []
    assert spec is not None


# -- the repository's workflow files (style item 9) ------------------------------------------


@pytest.fixture
def default_registry() -> Registry:
    """The registry the application runs with: what the core registers, mail templates from templates/email/."""
    register_builtins()
    return Registry(actions=REGISTRY.actions, choices=REGISTRY.choices, validators=REGISTRY.validators,
                    mail_templates=mail.available_templates)


def reachable(spec: WorkflowSpec) -> set[str]:
    seen, todo = {spec.initial}, [spec.initial]
    while todo:
        state = todo.pop()
        for transition in spec.transitions:
            if state in transition.sources and transition.dest not in seen:
                seen.add(transition.dest)
                todo.append(transition.dest)
    return seen


def test_the_repository_has_workflow_files():
    assert WORKFLOW_FILES, "workflows/*.yml is empty"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=[p.name for p in WORKFLOW_FILES])
def test_workflow_file_checks_clean_compiles_and_can_complete(path: Path, default_registry: Registry):
    spec, diagnostics = check_text(path.read_text(encoding="utf-8"), str(path), default_registry)

    assert diagnostics == [], "\n".join(map(str, diagnostics))
    assert spec is not None
    flow = compile_spec(spec, default_registry)
    assert set(flow.machine.states) == set(spec.states)
    for transition in spec.transitions:
        assert transition.trigger in flow.machine.events
    assert any(spec.states[name].final for name in reachable(spec))
    for action in [a for s in spec.states.values() for a in (*s.on_enter, *s.on_exit)] + [
        a for t in spec.transitions for a in t.actions
    ]:
        if action.kind == "call":
            assert action.name in default_registry.actions
        if action.kind == "mail" and "template" in action.params:
            assert action.params["template"] in mail.available_templates()


def test_workflow_files_declare_distinct_ids(default_registry: Registry):
    checked, diagnostics = check_files(WORKFLOW_FILES, default_registry)

    assert diagnostics == []
    assert len({spec.id for _, _, spec in checked}) == len(WORKFLOW_FILES)


# -- the spec's complete example -------------------------------------------------------------


@pytest.fixture
def invitation_registry() -> Registry:
    registry = Registry(mail_templates=lambda: {"invitation_friend"})
    registry.action("invitation.compose_message", provides=("message_subject", "message_body"))(lambda context: None)
    registry.action("invitation.save")(lambda context: None)
    registry.choice_set("invitation.positions")(lambda session, locale: [("member", {"en": "Member"})])
    registry.choice_set("invitation.interests")(lambda session, locale: [("climate", {"en": "Climate"})])
    return registry


def test_the_spec_invitation_example_checks_clean(invitation_registry: Registry):
    text = (FIXTURES / "invitation_example.yml").read_text(encoding="utf-8")

    spec, diagnostics = check_text(text, "invitation_example.yml", invitation_registry)

    assert diagnostics == []
    assert spec is not None
    assert spec.initial == "friend_info"
    assert spec.triggers_from("summary") == ["send"]
    assert spec.fields["newsletter"].visible_if == "data.friend_age >= 18"
    assert [a.kind for a in spec.transitions[-1].actions] == ["call", "mail"]
    assert compile_spec(spec, invitation_registry).machine.events["send"]


def test_the_invitation_example_needs_its_registered_names():
    text = (FIXTURES / "invitation_example.yml").read_text(encoding="utf-8")

    spec, diagnostics = check_text(text, "invitation_example.yml", Registry())

    assert spec is None
    messages = {d.message for d in diagnostics}
    assert "unknown action 'invitation.compose_message'" in messages
    assert "unknown action 'invitation.save'" in messages
    assert "unknown choice set 'invitation.positions'" in messages
    assert "unknown mail template 'invitation_friend'" in messages


# -- several files ---------------------------------------------------------------------------


def test_check_files_refuses_a_second_file_with_the_same_id(tmp_path: Path, registry: Registry):
    text = (FIXTURES / "gate.yml").read_text(encoding="utf-8")
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text(text, encoding="utf-8")
    second.write_text(text, encoding="utf-8")

    checked, diagnostics = check_files([first, second], registry)

    assert [path for path, _, _ in checked] == [first]
    assert len(diagnostics) == 1
    assert str(diagnostics[0]).startswith(f"{second}:3:5: error: id 'gate' is already declared in")


def test_check_files_reports_an_unreadable_file(tmp_path: Path, registry: Registry):
    path = tmp_path / "latin1.yml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))

    checked, diagnostics = check_files([path], registry)

    assert checked == []
    assert [(d.line, d.column) for d in diagnostics] == [(1, 1)]
    assert diagnostics[0].message.startswith("cannot read file")


# -- rate_limit on transitions; from_name and list_unsubscribe on mail actions ----------------


LIMITED = """\
id: sample
version: 1
title: Échantillon
initial: ask
states:
  ask:
    title: Vous
    fields: [{name: email, type: email, label: E-mail}, {name: first_name, type: text, label: Prénom}]
  done: {final: true, title: Merci}
transitions:
  - trigger: send
    source: ask
    dest: done
    rate_limit: LIMIT
"""
RATE_LIMIT_LINE, RATE_LIMIT_COLUMN = 14, 17  # where LIMIT stands


@pytest.mark.parametrize("limit", ['"10 per hour"', "5 per minute; 50 per day", "10/hour"])
def test_rate_limit_is_accepted_and_kept_on_the_transition(registry: Registry, limit: str):
    spec, diagnostics = check_text(LIMITED.replace("LIMIT", limit), "limited.yml", registry)

    assert diagnostics == []
    assert spec is not None
    assert spec.transitions[0].rate_limit == limit.strip('"')


def test_a_transition_without_rate_limit_has_none(registry: Registry):
    text = LIMITED.replace("    rate_limit: LIMIT\n", "")

    spec, diagnostics = check_text(text, "limited.yml", registry)

    assert diagnostics == []
    assert spec is not None and spec.transitions[0].rate_limit is None


@pytest.mark.parametrize("limit", ["often", "10", '"10 per fortnight"', '"10 per hour; often"', '""', "[10, hour]",
                                   "{per: hour}", "true", '"0 per hour"', '"10 per 0 hours"', '"10/0 minute"'])
def test_a_malformed_rate_limit_is_refused_where_it_stands(registry: Registry, limit: str):
    spec, diagnostics = check_text(LIMITED.replace("LIMIT", limit), "limited.yml", registry)

    assert spec is None
    assert [(d.line, d.column) for d in diagnostics] == [(RATE_LIMIT_LINE, RATE_LIMIT_COLUMN)]
    assert diagnostics[0].message == "rate_limit must read like '10 per hour' or '5 per minute; 50 per day'"


MAILING = """\
id: sample
version: 1
title: Échantillon
initial: ask
states:
  ask:
    title: Vous
    fields: [{name: email, type: email, label: E-mail}, {name: first_name, type: text, label: Prénom}]
  done: {final: true, title: Merci}
transitions:
  - trigger: send
    source: ask
    dest: done
    actions:
      - mail:
          template: welcome
          to: "{{ data.email }}"
          from_name: FROM_NAME
          list_unsubscribe: UNSUBSCRIBE
"""
FROM_NAME_AT, UNSUBSCRIBE_AT = (18, 22), (19, 29)


def test_mail_action_accepts_from_name_and_list_unsubscribe(registry: Registry):
    text = MAILING.replace("FROM_NAME", '"{{ data.first_name }} (via Engagement)"').replace(
        "UNSUBSCRIBE", '"https://example.org/optout/{{ data.email }}"')

    spec, diagnostics = check_text(text, "mailing.yml", registry)

    assert diagnostics == []
    assert spec is not None
    params = spec.transitions[0].actions[0].params
    assert params["from_name"] == "{{ data.first_name }} (via Engagement)"
    assert params["list_unsubscribe"] == "https://example.org/optout/{{ data.email }}"


@pytest.mark.parametrize(("from_name", "unsubscribe", "where", "message"), [
    ('"{{ data.nickname }}"', "https://example.org/optout", FROM_NAME_AT, "template reads unknown field 'nickname'"),
    ('"{{ data.first_name"', "https://example.org/optout", FROM_NAME_AT, "template does not parse"),
    ("Lou", '"{{ secret }}"', UNSUBSCRIBE_AT, "unknown name 'secret'"),
    ("Lou", '"{{ user.password_hash }}"', UNSUBSCRIBE_AT, "user has no attribute 'password_hash'"),
    ("42", "https://example.org/optout", FROM_NAME_AT, "from_name must be text"),
    ("Lou", "{url: x}", UNSUBSCRIBE_AT, "list_unsubscribe must be text"),
    ('["Lou", "Max"]', "https://example.org/optout", FROM_NAME_AT, "from_name takes one text, not a list"),
    ("Lou", '["https://a.example", "https://b.example"]', UNSUBSCRIBE_AT, "list_unsubscribe takes one text"),
])
def test_a_template_error_in_from_name_or_list_unsubscribe_is_reported_where_it_stands(
        registry: Registry, from_name: str, unsubscribe: str, where: tuple[int, int], message: str):
    text = MAILING.replace("FROM_NAME", from_name).replace("UNSUBSCRIBE", unsubscribe)

    spec, diagnostics = check_text(text, "mailing.yml", registry)

    assert spec is None
    assert [(d.line, d.column) for d in diagnostics] == [where]
    assert message in diagnostics[0].message


def test_mail_action_still_refuses_an_unknown_key(registry: Registry):
    text = MAILING.replace("FROM_NAME", "Lou").replace("UNSUBSCRIBE", "https://example.org/optout").replace(
        "          from_name:", "          sender: Lou\n          from_name:")

    spec, diagnostics = check_text(text, "mailing.yml", registry)

    assert spec is None
    assert [(d.line, d.column) for d in diagnostics] == [(18, 11)]
    assert "unknown key 'sender' in a mail action" in diagnostics[0].message


# -- what applies to each field type (engagement/workflow/fieldtypes.py) ------------------------------


def one_field(*lines: str, ftype: str = "text") -> str:
    """A valid file around one field of ``ftype``; its extra ``lines`` start at line 11, column 9."""
    extra = "".join(f"        {line}\n" for line in lines)
    choices = "        choices: {a: Un, b: Deux}\n" if ftype in ("choice", "multichoice") and "choices" not in extra \
        and "choices_from" not in extra else ""
    return (f"id: sample\nversion: 1\ntitle: Exemple\ninitial: ask\nstates:\n  ask:\n    title: Question\n"
            f"    fields:\n      - name: answer\n        label: Réponse\n{extra}        type: {ftype}\n{choices}"
            "  done: {final: true, title: Fin}\ntransitions:\n  - {trigger: next, source: ask, dest: done}\n")


@pytest.mark.parametrize(("ftype", "line", "applies"), [
    ("boolean", "min_length: 2", "text, textarea, email, password"),
    ("date", "pattern: '[0-9]+'", "text, textarea, email"),
    ("date", "placeholder: jj/mm/aaaa", "text, textarea, email, integer, decimal, phone, postal_code, password"),
    ("text", "choices: {a: Un}", "choice, multichoice"),
    ("email", "choices_from: sample.colors", "choice, multichoice"),
    ("integer", "min_age: 18", "date"),
    ("choice", "min_selected: 1", "multichoice"),
    ("password", "default: secret123", "text, textarea, email, integer, decimal, date, boolean, choice, multichoice, "
                                       "phone, postal_code, country, hidden"),
    ("consent", "default: true", "text, textarea, email, integer, decimal, date, boolean, choice, multichoice, "
                                 "phone, postal_code, country, hidden"),
    ("phone", "pattern: '0[67].*'", "text, textarea, email"),
    ("boolean", "autocomplete: 'off'", "text, textarea, email, integer, decimal, date, phone, postal_code, country, "
                                       "password"),
    ("text", "min: 3", "integer, decimal, date"),
])
def test_a_key_that_does_not_apply_to_the_type_is_refused_at_that_key(registry: Registry, ftype: str, line: str,
                                                                       applies: str):
    key = line.split(":")[0]
    article = "an" if ftype[0] in "aeiou" else "a"

    spec, diagnostics = check_text(one_field(line, ftype=ftype), "one.yml", registry)

    assert spec is None
    assert [(d.line, d.column, d.message) for d in diagnostics] == [
        (11, 9, f"{key} does not apply to {article} {ftype} field (it applies to: {applies})")]


@pytest.mark.parametrize(("ftype", "lines"), [
    ("email", ["max_length: 80", "placeholder: {fr: nom@exemple.fr, en: name@example.org}",
               "autocomplete: work email"]),
    ("phone", ["max_length: 20", "placeholder: 06 12 34 56 78", "default: '0612345678'", "autocomplete: mobile tel"]),
    ("postal_code", ["max_length: 5", "placeholder: '94320'", "autocomplete: shipping postal-code"]),
    ("password", ["min_length: 10", "max_length: 64", "placeholder: '••••'", "autocomplete: current-password"]),
    ("date", ["min: 1900-01-01", "max: '2030-12-31'", "min_age: 15", "max_age: 120", "default: 2000-02-29",
              "autocomplete: bday"]),
    ("decimal", ["min: 0.5", "max: 10", "default: 2.5", "placeholder: '1,5'"]),
    ("multichoice", ["min_selected: 1", "max_selected: 2", "default: [a]"]),
    ("choice", ["default: b"]),
    ("country", ["default: BE", "autocomplete: shipping country"]),
    ("hidden", ["default: '{{ instance.version }}'"]),
])
def test_every_key_that_applies_to_the_type_is_accepted_and_kept(registry: Registry, ftype: str, lines: list[str]):
    spec, diagnostics = check_text(one_field(*lines, ftype=ftype), "one.yml", registry)

    assert diagnostics == []
    field = spec.states["ask"].fields[0]
    for line in lines:
        assert getattr(field, line.split(":")[0]) not in (None, {}, ()), line


def test_date_bounds_and_defaults_are_kept_as_iso_dates(registry: Registry):
    spec, _diagnostics = check_text(one_field("min: 1900-01-01", "default: 2000-02-29", ftype="date"), "d.yml",
                                    registry)
    field = spec.states["ask"].fields[0]
    assert (field.min, field.default) == ("1900-01-01", "2000-02-29")


@pytest.mark.parametrize(("ftype", "line", "message"), [
    ("date", "min: yesterday", "min of a date field must be an ISO date like 2025-01-31"),
    ("date", "max: 2025-02-30", "max of a date field must be an ISO date like 2025-01-31"),
    ("integer", "min: 1.5", "min must be a whole number"),
    ("decimal", "max: ten", "max must be a number"),
    ("boolean", "default: 'yes'", "default of a boolean field must be true or false"),
    ("choice", "default: c", "default of a choice field must be one of its choice keys"),
    ("multichoice", "default: a", "default of a multichoice field must be a list of its choice keys"),
    ("country", "default: France", "default of a country field must be an ISO country code like FR"),
    ("integer", "default: many", "default of an integer field must be a number"),
    ("text", "default: [a, b]", "default of a text field must be text"),
    ("email", "autocomplete: e-mail", "autocomplete 'e-mail' is not a WHATWG autofill token"),
    ("text", "autocomplete: home given-name", "autocomplete 'home given-name' is not a WHATWG autofill token"),
    ("choice", "choices: {'': Aucun, a: Un}", "a choice key cannot be empty"),
])
def test_a_value_that_does_not_fit_the_type_is_refused_where_it_stands(registry: Registry, ftype: str, line: str,
                                                                       message: str):
    spec, diagnostics = check_text(one_field(line, ftype=ftype), "one.yml", registry)

    assert spec is None
    assert [(d.line, message in d.message) for d in diagnostics] == [(11, True)], diagnostics


@pytest.mark.parametrize(("ftype", "rule"), [("phone", "min_length"), ("boolean", "pattern"), ("text", "email"),
                                             ("consent", "required"), ("date", "choice")])
def test_a_message_for_a_rule_the_type_never_breaks_is_refused_at_the_rule(registry: Registry, ftype: str,
                                                                            rule: str):
    spec, diagnostics = check_text(one_field(f"messages: {{{rule}: Non}}", ftype=ftype), "one.yml", registry)

    assert spec is None
    assert [(d.line, d.column) for d in diagnostics] == [(11, 20)]
    assert f"never breaks rule {rule!r}" in diagnostics[0].message
