"""The organizer's workflow studio: check with located diagnostics, preview, publish, unpublish, migrate."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from engagement.db import Base
from engagement.workflow import migration
from engagement.workflow.loader import MAX_BYTES
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance, WorkflowTransition
from tests.functional.helpers import count, state_of, text
from tests.functional.invitation_steps import log_in, make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
BAD = (FIXTURES / "bad" / "unknown_dest.yml").read_text(encoding="utf-8")
FIXED = BAD.replace("dest: nowhere", "dest: done")
SURVEY_V1 = (FIXTURES / "migration" / "survey_v1.yml").read_text(encoding="utf-8")
SURVEY_V2 = (FIXTURES / "migration" / "survey_v2.yml").read_text(encoding="utf-8")
SURVEY_V2_NO_MAP = SURVEY_V2.split("migrate_from:")[0]
STUDIO = "/organizer/workflows/"
EDITOR = "/organizer/workflows/editor"
PREVIEW = "/organizer/workflows/preview"


@pytest.fixture
def organizer(app, client):
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def english(client) -> None:
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def submit(client, source: str, action: str = "check", **extra: Any):
    client.get(EDITOR)
    return client.post(EDITOR, {"source": source, "action": action, **extra})


def confirmation(page: str) -> str:
    found = re.search(r'name="confirm" value="(\w+)"', page)
    assert found, "no confirmation form"
    return found.group(1)


def publish(client, source: str) -> None:
    """Publish as an organizer does: the confirmation page first, then its button."""
    assert submit(client, source, "publish").status_code == 200, text(client.last_html)[:3000]
    response = client.post(EDITOR, {"source": source, "action": "publish", "confirm": confirmation(client.last_html)})
    assert response.status_code == 303, text(client.last_html)[:3000]


def diagnostics(page: str) -> list[tuple[int, int, str]]:
    """(line, column, message) of each diagnostic row placed in the numbered source."""
    rows = re.findall(r'<tr class="diagnostic error" id="d\d+" data-line="(\d+)" data-column="(\d+)">.*?<td>(.*?)</td>',
                      page, re.S)
    return [(int(line), int(column), text(message).strip()) for line, column, message in rows]


def row_after_line(page: str, line: int) -> str:
    """What follows the numbered source line ``line`` up to the next source line."""
    found = re.search(rf'<tr id="L{line}".*?(?=<tr id="L{line + 1}"|</tbody>)', page, re.S)
    assert found, f"no line {line} in the page"
    return text(found.group(0))


def textarea(page: str, name: str = "source") -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name!r}"
    return text(found.group(1))


def wizard_state(client, workflow_id: str) -> str | None:
    response = client.get(f"/w/{workflow_id}")
    assert response.status_code == 200, text(client.last_html)[:2000]
    return state_of(client.last_html)


def step(client, workflow_id: str, data: dict[str, str], trigger: str = "next") -> None:
    response = client.post(f"/w/{workflow_id}", {**data, "trigger": trigger}, page=f"/w/{workflow_id}")
    assert response.status_code == 303, text(client.last_html)[:2000]


# -- who may enter ---------------------------------------------------------------------------------


def test_only_organizers_and_admins_enter_the_studio(app, client, new_client):
    assert client.get(STUDIO).status_code == 302  # anonymous: to the log-in page
    make_user(app, "member@example.org")
    log_in(client, "member@example.org")
    assert client.get(STUDIO).status_code == 403
    assert client.get(EDITOR).status_code == 403
    assert client.get("/organizer/workflows/volunteer/diagram.mmd").status_code == 403
    client.get("/account")
    assert client.post(EDITOR, {"source": FIXED, "action": "publish"}).status_code == 403
    assert client.post("/organizer/workflows/volunteer/unpublish").status_code == 403
    admin = new_client()
    make_user(app, "admin@example.org", role="admin")
    log_in(admin, "admin@example.org")
    assert admin.get(STUDIO).status_code == 200


def test_a_post_without_the_csrf_token_is_refused(organizer, read):
    response = organizer.client.post(EDITOR, data={"source": FIXED, "action": "publish"})
    assert response.status_code == 400
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "sample") == 0


# -- the list --------------------------------------------------------------------------------------


def test_the_list_shows_each_workflow_with_its_active_version_and_live_instances(organizer, new_client):
    visitor = new_client()
    visitor.get("/w/volunteer")
    visitor.get("/w/volunteer")  # the same instance, resumed
    new_client().get("/w/volunteer")

    organizer.get(STUDIO)

    page = organizer.last_html
    row = re.search(r'<tr data-workflow="volunteer">.*?</tr>', page, re.S)
    assert row, page[:3000]
    assert 'data-active="4"' in row.group(0) and 'data-live="2"' in row.group(0)
    assert 'href="/w/volunteer"' in row.group(0)
    listed = set(re.findall(r'data-workflow="(\w+)"', page))
    assert {"volunteer", "signup", "invitation", "event_registration"} <= listed


# -- checking --------------------------------------------------------------------------------------


def test_a_bad_file_shows_its_diagnostics_at_their_lines_keeps_the_text_and_publishes_nothing(organizer, read):
    english(organizer)
    typed = BAD.replace("# expect: 13:40: unknown state 'nowhere'\n", "")

    response = submit(organizer, typed, "publish")

    assert response.status_code == 422
    page = organizer.last_html
    assert diagnostics(page) == [(12, 40, "column 40: error: unknown state 'nowhere'")]
    assert "nowhere" in row_after_line(page, 12) and "unknown state" in row_after_line(page, 12)
    assert re.search(r'<a href="#d0">line 12, column 40: unknown state &#39;nowhere&#39;</a>', page)
    assert textarea(page) == typed
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "sample") == 0


def test_an_uploaded_file_is_checked_and_shown_in_the_editor(organizer, read):
    english(organizer)
    organizer.get(EDITOR)

    response = organizer.post(EDITOR, {"source": "", "action": "check",
                                       "upload": (io.BytesIO(BAD.encode()), "mine.yml")})

    assert response.status_code == 422
    assert diagnostics(organizer.last_html) == [(13, 40, "column 40: error: unknown state 'nowhere'")]
    assert textarea(organizer.last_html) == BAD
    assert 'name="filename" value="mine.yml"' in organizer.last_html


def test_an_oversize_upload_is_refused_and_the_typed_text_kept(organizer):
    english(organizer)
    organizer.get(EDITOR)

    response = organizer.post(EDITOR, {"source": FIXED, "action": "check",
                                       "upload": (io.BytesIO(b"#" * (MAX_BYTES + 1)), "big.yml")})

    assert response.status_code == 422
    assert diagnostics(organizer.last_html) == [(1, 1, "column 1: error: file is larger than 256 KiB")]
    assert textarea(organizer.last_html) == FIXED


def test_a_fixed_file_checks_clean(organizer, read):
    english(organizer)

    response = submit(organizer, FIXED)

    assert response.status_code == 200
    assert "The file is valid: sample, version 1." in text(organizer.last_html)
    assert diagnostics(organizer.last_html) == []
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "sample") == 0


# -- publishing ------------------------------------------------------------------------------------


def test_fix_then_publish_and_the_wizard_serves_it(organizer, new_client, read):
    assert new_client().get("/w/sample").status_code == 404
    assert submit(organizer, BAD, "publish").status_code == 422
    assert submit(organizer, FIXED, "publish").status_code == 200  # the confirmation first

    response = organizer.post(EDITOR, {"source": FIXED, "action": "publish",
                                       "confirm": confirmation(organizer.last_html)})

    assert response.status_code == 303 and response.headers["Location"] == "/organizer/workflows/sample"
    rows = read().scalars(select(WorkflowDefinition).where(WorkflowDefinition.workflow_id == "sample")).all()
    assert [(r.version, r.is_active, r.source, r.source_name) for r in rows] == [
        (1, True, FIXED, "studio/workflow.yml")]
    visitor = new_client()
    assert wizard_state(visitor, "sample") == "ask"
    step(visitor, "sample", {"age": "30"})
    assert '<h1 data-state="done">' in visitor.get("/w/sample").get_data(as_text=True)  # the final page


def test_publishing_needs_a_version_above_the_published_ones(organizer, read):
    english(organizer)
    source = (Path(__file__).resolve().parents[2] / "workflows" / "volunteer.yml").read_text(encoding="utf-8")
    changed = source.replace("title: {fr: Devenir bénévole, en: Become a volunteer}", "title: Bénévoles")
    assert submit(organizer, changed).status_code == 200  # checking only warns, next to the version line
    warning = re.search(r'<tr class="diagnostic warning" id="d0" data-line="4" data-column="10">', organizer.last_html)
    assert warning and "write version: 5 to publish" in row_after_line(organizer.last_html, 4)

    assert submit(organizer, changed, "publish").status_code == 422

    [(line, column, message)] = diagnostics(organizer.last_html)
    assert (line, column) == (4, 10)
    assert "version 4 of volunteer is already published (the latest is 4): write version: 5" in message
    assert textarea(organizer.last_html) == changed
    publish(organizer, changed.replace("version: 4", "version: 5"))
    assert read().scalars(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == "volunteer", WorkflowDefinition.is_active.is_(True))).all() == [5]


def test_an_instance_in_flight_stays_on_its_version(organizer, new_client):
    publish(organizer, SURVEY_V1)
    early = new_client()
    assert wizard_state(early, "survey") == "contact"
    step(early, "survey", {"first_name": "Camille"})

    publish(organizer, SURVEY_V2_NO_MAP)

    assert wizard_state(early, "survey") == "topics"  # version 1's step
    step(early, "survey", {"topic": "housing"})
    assert wizard_state(early, "survey") == "review"
    late = new_client()
    assert wizard_state(late, "survey") == "contact"
    step(late, "survey", {"first_name": "Lou"})
    assert wizard_state(late, "survey") == "interests"  # version 2's step


def test_unpublishing_serves_the_previous_version_then_nothing(organizer, new_client, read):
    publish(organizer, SURVEY_V1)
    publish(organizer, SURVEY_V2_NO_MAP)
    on_v2 = new_client()
    wizard_state(on_v2, "survey")
    step(on_v2, "survey", {"first_name": "Camille"})

    organizer.get("/organizer/workflows/survey")
    response = organizer.post("/organizer/workflows/survey/unpublish")

    assert response.status_code == 303
    assert read().scalars(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == "survey", WorkflowDefinition.is_active.is_(True))).all() == [1]
    newcomer = new_client()
    wizard_state(newcomer, "survey")
    step(newcomer, "survey", {"first_name": "Lou"})
    assert wizard_state(newcomer, "survey") == "topics"  # version 1 again
    assert wizard_state(on_v2, "survey") == "interests"  # still on version 2
    step(on_v2, "survey", {"topic": "housing"}, trigger="send")

    organizer.get("/organizer/workflows/survey")
    assert organizer.post("/organizer/workflows/survey/unpublish").status_code == 303
    assert new_client().get("/w/survey").status_code == 404
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "survey") == 2


# -- the diagram -----------------------------------------------------------------------------------


def test_the_diagram_is_shown_as_mermaid_and_downloadable(organizer):
    organizer.get("/organizer/workflows/volunteer")
    assert re.search(r'<pre class="mermaid" id="diagram"[^>]*>stateDiagram-v2\n\s+\[\*\] --&gt; identity',
                     organizer.last_html)
    assert "vendor/mermaid/mermaid.min.js" in organizer.last_html

    response = organizer.get("/organizer/workflows/volunteer/diagram.mmd")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="volunteer-v4.mmd"'
    body = response.get_data(as_text=True)
    assert body.startswith("stateDiagram-v2\n    [*] --> identity\n")
    assert "    identity --> availability : next\n" in body
    assert organizer.get("/organizer/workflows/nothing/diagram.mmd").status_code == 404


# -- the preview -----------------------------------------------------------------------------------


def snapshot(read) -> dict[str, list[tuple[Any, ...]]]:
    session = read()
    return {table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables}


def test_the_preview_walks_the_steps_and_writes_nothing(organizer, read):
    english(organizer)
    organizer.get(EDITOR)
    before = snapshot(read)

    organizer.post(PREVIEW, {"source": SURVEY_V1})
    assert re.search(r'<form method="post" action="/organizer/workflows/preview" data-state="contact"',
                     organizer.last_html)
    organizer.post(PREVIEW, {"_trigger": "next", "_state": "contact", "_data": "{}", "_source": SURVEY_V1,
                             "first_name": ""})
    assert 'data-state="contact"' in organizer.last_html and 'class="error"' in organizer.last_html
    organizer.post(PREVIEW, {"_trigger": "next", "_state": "contact", "_data": "{}", "_source": SURVEY_V1,
                             "first_name": "Camille"})
    page = organizer.last_html
    assert 'data-hop="contact:next:topics"' in page and 'data-state="topics"' in page
    data = re.search(r'name="_data" value="([^"]*)"', page)
    assert data and text(data.group(1)) == '{"first_name": "Camille"}'
    organizer.post(PREVIEW, {"_trigger": "next", "_state": "topics", "_data": text(data.group(1)),
                             "_source": SURVEY_V1, "topic": "housing"})
    organizer.post(PREVIEW, {"_trigger": "send", "_state": "review", "_data": "{}", "_source": SURVEY_V1,
                             "comment": ""})
    assert 'data-hop="review:send:done"' in organizer.last_html and 'id="final"' in organizer.last_html

    assert snapshot(read) == before


def test_the_preview_lists_actions_without_running_them(organizer, read):
    source = (FIXTURES / "invitation_example.yml").read_text(encoding="utf-8")
    organizer.get(EDITOR)
    before = snapshot(read)
    # A real comparison: rows to compare (the visitor's session is one of them unless it lives in Redis).
    assert before["users"] and before["invitation_content"]
    assert before["http_sessions"] or os.environ.get("REDIS_URL")

    organizer.post(PREVIEW, {"_goto": "summary", "_data": "{}", "_source": source})

    page = text(organizer.last_html)
    assert 'data-state="summary"' in page
    organizer.post(PREVIEW, {"_trigger": "send", "_state": "summary", "_source": source,
                             "_data": '{"friend_email": "ami@example.org", "self_email": "moi@example.org"}',
                             "message_subject": "Salut", "message_body": "Viens", "friend_email": "ami@example.org",
                             "self_email": "moi@example.org"})
    page = text(organizer.last_html)
    assert 'data-hop="summary:send:sent"' in page
    assert "invitation.save" in page and "mail invitation_friend to {{ data.friend_email }}" in page
    assert snapshot(read) == before  # no instance, no transition, no mail, no outbox row


def test_a_bad_file_cannot_be_previewed(organizer):
    organizer.get(EDITOR)
    assert organizer.post(PREVIEW, {"source": BAD}).status_code == 422
    assert diagnostics(organizer.last_html)[0][:2] == (13, 40)


# -- migration -------------------------------------------------------------------------------------


def survey_instances(client_factory) -> dict[str, list[Any]]:
    """Live version-1 visitors: one at contact, two at topics, one at review."""
    visitors: dict[str, list[Any]] = {"contact": [], "topics": [], "review": []}
    for where in ("contact", "topics", "topics", "review"):
        visitor = client_factory()
        wizard_state(visitor, "survey")
        if where != "contact":
            step(visitor, "survey", {"first_name": "Camille"})
        if where == "review":
            step(visitor, "survey", {"topic": "housing"})
        visitors[where].append(visitor)
    return visitors


def test_publishing_a_migration_shows_the_dry_run_then_moves_the_mapped_instances(organizer, new_client, read):
    publish(organizer, SURVEY_V1)
    visitors = survey_instances(new_client)

    response = submit(organizer, SURVEY_V2, "publish")

    assert response.status_code == 200
    page = organizer.last_html
    assert re.search(r'<tr data-move="1:topics">.*?data-count="2"', page, re.S)
    assert re.search(r'<tr data-stranded="1:review">.*?data-count="1"', page, re.S)
    assert 'data-stranded="1:contact"' not in page  # contact exists in version 2: it stays, not stranded
    assert read().scalars(select(WorkflowInstance.version).distinct()).all() == [1]
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "survey") == 1
    assert textarea(page) == SURVEY_V2

    response = organizer.post(EDITOR, {"source": textarea(page), "action": "publish",
                                       "confirm": re.search(r'name="confirm" value="(\w+)"', page).group(1)})

    assert response.status_code == 303, text(organizer.last_html)[:3000]
    rows = read().scalars(select(WorkflowInstance).order_by(WorkflowInstance.id)).all()
    assert [(r.version, r.state) for r in rows] == [(1, "contact"), (2, "interests"), (2, "interests"), (1, "review")]
    moves = read().scalars(select(WorkflowTransition).where(WorkflowTransition.trigger == "migrate")).all()
    assert sorted((m.instance_id, m.version, m.source, m.dest) for m in moves) == [
        (rows[1].id, 2, "topics", "interests"), (rows[2].id, 2, "topics", "interests")]
    moved = visitors["topics"][0]
    assert wizard_state(moved, "survey") == "interests"
    step(moved, "survey", {"topic": "transport"}, trigger="send")
    assert wizard_state(visitors["review"][0], "survey") == "review"  # stranded ones keep their version


def test_a_changed_file_is_dry_run_again_before_it_moves_anything(organizer, new_client, read):
    publish(organizer, SURVEY_V1)
    survey_instances(new_client)
    submit(organizer, SURVEY_V2, "publish")
    stale_confirmation = re.search(r'name="confirm" value="(\w+)"', organizer.last_html).group(1)
    changed = SURVEY_V2.replace("title: {fr: Questionnaire, en: Survey}", "title: Questionnaire")

    response = organizer.post(EDITOR, {"source": changed, "action": "publish", "confirm": stale_confirmation})

    assert response.status_code == 200 and 'id="confirm-form"' in organizer.last_html
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "survey") == 1


def test_garbled_preview_fields_show_the_first_step_again(organizer):
    organizer.get(EDITOR)
    for extra in ({"_data": "not json", "_state": "contact", "_trigger": "next", "first_name": "Camille"},
                  {"_data": "[1, 2]", "_state": "nowhere", "_trigger": "next"},
                  {"_data": '{"first_name": {"x": [1]}, "topic": 3}', "_goto": "topics"},
                  {"_data": "{}", "_state": "contact", "_trigger": "restart"}):
        response = organizer.post(PREVIEW, {"_source": SURVEY_V1, **extra})
        assert response.status_code == 200, extra
        assert re.search(r'data-state="(contact|topics)"', organizer.last_html), extra


def test_an_upload_that_is_not_utf8_is_refused_and_the_typed_text_kept(organizer):
    english(organizer)
    organizer.get(EDITOR)

    response = organizer.post(EDITOR, {"source": FIXED, "action": "publish",
                                       "upload": (io.BytesIO("id: é".encode("latin-1")), "latin.yml")})

    assert response.status_code == 422
    assert diagnostics(organizer.last_html) == [(1, 1, "column 1: error: the file is not UTF-8 text")]
    assert textarea(organizer.last_html) == FIXED


def test_instances_moving_while_publishing_leave_everything_as_it_was(organizer, new_client, read, monkeypatch):
    publish(organizer, SURVEY_V1)
    survey_instances(new_client)
    submit(organizer, SURVEY_V2, "publish")
    confirmation = re.search(r'name="confirm" value="(\w+)"', organizer.last_html).group(1)

    def concurrent(*args: Any, **kwargs: Any) -> Any:
        raise StaleDataError("a visitor moved meanwhile")

    monkeypatch.setattr(migration, "apply", concurrent)
    response = organizer.post(EDITOR, {"source": SURVEY_V2, "action": "publish", "confirm": confirmation})

    assert response.status_code == 200 and 'id="notice"' in organizer.last_html
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "survey") == 1
    assert read().scalars(select(WorkflowInstance.version).distinct()).all() == [1]
