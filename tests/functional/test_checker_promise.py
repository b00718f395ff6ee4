"""The checker's promise (workflow language 1.1), property-based: a file the checker accepts never answers 500.

Hypothesis writes one-step workflows over every field type with every key that applies to it (random but
valid values: lengths, bounds, patterns, placeholders, defaults, choices, conditions over an earlier field,
an automatic state that branches), checks each with the real checker, then drives every accepted one through
the wizard (``/w/<id>``) and the studio's preview with a valid answer, an empty one and hostile ones (huge
strings, NUL bytes, lists for scalars, unknown choices, no CSRF or step token). A key that does not apply to a
type is refused at its line:column. Counts are printed (run with ``-s``) and kept in ``COUNTS``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from engagement.config import load_settings
from engagement.core import register_builtins
from engagement.db import Base
from engagement.invitations import content
from engagement.outbox import InProcessRelay
from engagement.tables import import_models
from engagement.workflow import definitions
from engagement.workflow.checker import check_text
from engagement.workflow.fieldtypes import COMMON_KEYS, TYPES, applies_to
from engagement.workflow.spec import FIELD_TYPES
from tests.conftest import FormClient
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.workflow_cases import OFFERED, Answer, words, workflow

register_builtins()  # what the application registers: the choice sets and field checks the cases name
EDITOR, PREVIEW = "/organizer/workflows/editor", "/organizer/workflows/preview"
# Workflows per field type in a batch (one app each): the first with every key of the type, the others random.
PER_TYPE = int(os.environ.get("PROMISE_PER_TYPE", "3"))
BATCHES = int(os.environ.get("PROMISE_BATCHES", "2"))  # more for a longer hunt, e.g. PROMISE_BATCHES=20
COUNTS = {"workflows": 0, "accepted": 0, "wizard_posts": 0, "preview_posts": 0, "valid_completed": 0}
HOSTILE = st.one_of(
    st.just("x" * 200_000), st.just("a\x00b"), st.text(max_size=40),
    st.lists(st.text(max_size=8), min_size=2, max_size=3),
    st.sampled_from(["no_such_choice", "-1", "1e999", "NaN", "2025-02-30", "<script>", "9" * 400, "   ", "y"]),
)
SLOW = settings(max_examples=BATCHES, deadline=None, database=None, phases=(Phase.generate,),  # shrinking is too slow
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])


@st.composite
def batch(draw: Any) -> list[tuple[str, Answer, list[Answer]]]:
    """Workflows of one app: (text, valid answer, hostile answers) for every type, ``PER_TYPE`` times."""
    cases = []
    for ftype in FIELD_TYPES:
        for i in range(PER_TYPE):
            text, answer, _name = draw(workflow(f"g_{ftype}_{i}", ftype, full=i == 0))
            hostile = [{name: draw(HOSTILE) for name in answer} for _ in range(3)]
            cases.append((text, answer, hostile))
    return cases


def make_app(root: Path) -> Any:
    """A fresh deployment (SQLite) publishing the files of ``root/workflows`` at start-up."""
    from web.app import create_app

    definitions.reset_caches()
    content.invalidate()
    env = {"ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(root / "instance"),
           "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "DATABASE_URL": f"sqlite:///{root / 'e.db'}",
           "ENGAGEMENT_WORKFLOWS_DIR": str(root / "workflows")}
    import_models()
    engine = create_engine(env["DATABASE_URL"])
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(load_settings(env))
    app.config["TESTING"] = True
    return app


def browser(app: Any) -> FormClient:
    client = FormClient(app.test_client())
    client.client.environ_base["REMOTE_ADDR"] = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.2"
    return client


def answered(response: Any, what: str) -> Any:
    body = response.get_data(as_text=True)
    assert response.status_code < 500 and "Traceback" not in body, f"{what}: {response.status_code}\n{body[:1500]}"
    return response


def offered(page: str, answer: Answer) -> Answer:
    """The valid answer, with the keys of a ``choices_from`` set read from the page (the first one offered)."""
    resolved = dict(answer)
    for name, value in answer.items():
        if OFFERED not in (value if isinstance(value, list) else [value]):
            continue
        select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
        tags = re.findall(r"<option[^>]*>", select.group(1)) if select else \
            [tag for tag in re.findall(r"<input[^>]*>", page) if f'name="{name}"' in tag]
        keys = [key for tag in tags for key in re.findall(r'value="([^"]+)"', tag)]
        assert keys, f"no choice offered for {name}"
        resolved[name] = keys[:1] if isinstance(value, list) else keys[0]
    return resolved


def walk_wizard(app: Any, workflow_id: str, valid: Answer, hostile: list[Answer], text: str) -> None:
    url = f"/w/{workflow_id}"
    visitor = browser(app)
    answered(visitor.get(url), text)
    token = visitor.hidden("csrf_token")
    for payload in [{}, *hostile, {"trigger": ["next", "go"], **valid}, {"trigger": "nope", **valid}]:
        response = answered(visitor.post(url, {"trigger": "next", **payload}), f"{text}\n{payload!r:.300}")
        COUNTS["wizard_posts"] += 1
        if response.status_code == 303 or 'name="csrf_token"' not in visitor.last_html:
            visitor = browser(app)
            answered(visitor.get(url), text)
            token = visitor.hidden("csrf_token")
    for raw in ({**valid, "trigger": "next"}, {**valid, "trigger": "next", "csrf_token": token},
                {**valid, "trigger": "next", "csrf_token": token, "step": "x\x00" * 3}):
        answered(visitor.client.post(url, data=raw), f"{text}\n{raw!r:.300}")  # no CSRF / no or a bad step token
        COUNTS["wizard_posts"] += 1
    answered(visitor.get(url), text)
    response = answered(visitor.post(url, {**offered(visitor.last_html, valid), "trigger": "next"}), text)
    COUNTS["wizard_posts"] += 1
    assert response.status_code == 303, f"the valid answer was refused\n{text}\n{visitor.last_html[:3000]}"
    COUNTS["valid_completed"] += 1


def walk_preview(organizer: FormClient, text: str, valid: Answer, hostile: list[Answer]) -> None:
    def post(data: dict[str, Any]) -> Any:
        if 'name="csrf_token"' not in organizer.last_html:
            organizer.get(EDITOR)
        COUNTS["preview_posts"] += 1
        return answered(organizer.post(PREVIEW, data), f"{text}\n{data!r:.300}")

    assert post({"source": text}).status_code == 200
    step = {"_source": text, "_state": "ask", "_trigger": "next", "_data": "{}"}
    names = list(valid)
    for data in ({}, *hostile, {"_data": json.dumps({n: [1, {"x": None}] for n in names})},
                 {"_data": json.dumps(dict.fromkeys(names, "\x00" * 3)), "_goto": "ask"},
                 {"_data": json.dumps(dict.fromkeys(names, 10**30)), "_goto": "ask"}):
        post({**step, **data})
    post({"source": text})
    post({**step, **offered(organizer.last_html, valid)})
    assert 'id="final"' in organizer.last_html, f"the preview refused the valid answer\n{text}"


@SLOW
@given(cases=batch())
def test_every_accepted_generated_workflow_never_answers_500(cases):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "workflows").mkdir()
        for text, _valid, _hostile in cases:
            COUNTS["workflows"] += 1
            spec, diagnostics = check_text(text, "generated.yml")
            assert spec is not None, "a valid-by-construction workflow was refused:\n" + "\n".join(
                map(str, diagnostics)) + "\n" + text
            COUNTS["accepted"] += 1
            (root / "workflows" / f"{spec.id}.yml").write_text(text, encoding="utf-8")
        app = make_app(root)
        try:
            make_user(app, "orga@example.org", role="organizer")
            organizer = browser(app)
            log_in(organizer, "orga@example.org")
            organizer.get(EDITOR)
            for text, valid, hostile in cases:
                workflow_id = yaml.safe_load(text)["id"]
                walk_wizard(app, workflow_id, valid, hostile, text)
                walk_preview(organizer, text, valid, hostile)
        finally:
            InProcessRelay.drain()
            app.extensions["engagement"].engine.dispose()
    print(f"\nchecker's promise: {COUNTS}")


# -- keys that do not apply to a type ------------------------------------------------------------------

SAMPLE_VALUES = {"placeholder": "Ex.", "default": "x", "min": 1, "max": 2, "min_length": 1, "max_length": 9,
                 "pattern": "[a-z]+", "choices": {"a": "A"}, "choices_from": "invitation.genders",
                 "min_selected": 1, "max_selected": 2, "min_age": 1, "max_age": 99, "autocomplete": "off",
                 "link": "/charte-des-benevoles"}
MISPLACED = [(ftype, key) for ftype in FIELD_TYPES for key in sorted(SAMPLE_VALUES)
             if key not in TYPES[ftype].keys and key not in COMMON_KEYS]


@pytest.mark.parametrize(("ftype", "key"), MISPLACED)  # every type with every key that does not apply to it
@settings(max_examples=3, deadline=None)
@given(label=words(), before=st.integers(0, 3))
def test_a_key_that_does_not_apply_to_its_type_is_refused_at_its_line_and_column(ftype, key, label, before):
    body: dict[str, Any] = {"name": "answer", "type": ftype, "label": {"fr": label}}
    if ftype in ("choice", "multichoice") and key != "choices":
        body["choices"] = {"a": "A"}
    if ftype in ("choice", "multichoice") and key == "choices":
        body["choices_from"] = "invitation.genders"
    extra = dict(list({"help": "Aide", "required": ftype == "consent", "visible_if": "true"}.items())[:before])
    body = {**body, **extra, key: SAMPLE_VALUES[key]}
    text = yaml.safe_dump({"id": "misplaced", "version": 1, "title": "Titre", "initial": "ask", "states": {
        "ask": {"title": "Étape", "fields": [body]}, "done": {"final": True, "title": "Fin"}},
        "transitions": [{"trigger": "next", "source": "ask", "dest": "done"}]}, allow_unicode=True, sort_keys=False)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if re.match(rf"\s*(- )?{key}:", row))
    column = re.search(rf"\b{key}:", text.splitlines()[line - 1]).start() + 1

    spec, diagnostics = check_text(text, "misplaced.yml")

    assert spec is None
    assert [(d.line, d.column, d.message) for d in diagnostics] == [
        (line, column, f"{key} does not apply to {'an' if ftype[0] in 'aeiou' else 'a'} {ftype} field "
                       f"(it applies to: {', '.join(applies_to(key))})")], text
