"""The studio for people: a commented starter, a help page, a confirmation that says what publishing changes
for the instances in progress, and a home page that shows only the workflows an organizer put there."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engagement import homepage, switches
from engagement.workflow.checker import check_text
from engagement.workflow.models import WorkflowDefinition, WorkflowInstance
from tests.functional.helpers import count, text
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_workflow_studio import (
    EDITOR,
    FIXED,
    SURVEY_V1,
    SURVEY_V2,
    SURVEY_V2_NO_MAP,
    confirmation,
    publish,
    step,
    submit,
    survey_instances,
    textarea,
    wizard_state,
)
from web.studio.editor import STARTER

HELP = "/organizer/workflows/help"


@pytest.fixture
def organizer(app, client):
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def active_versions(read, workflow_id: str) -> list[int]:
    return read().scalars(select(WorkflowDefinition.version).where(
        WorkflowDefinition.workflow_id == workflow_id, WorkflowDefinition.is_active.is_(True))).all()


# -- the starter and the help ----------------------------------------------------------------------


def test_the_editor_starts_from_a_commented_example_that_passes_the_checker(organizer):
    starter = STARTER.read_text(encoding="utf-8")
    spec, diagnostics = check_text(starter, "workflow.yml")
    assert spec is not None and diagnostics == []
    comments = [line for line in starter.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 10 and any("Identifiant du parcours" in line for line in comments)  # French, per key

    organizer.get(EDITOR)

    assert textarea(organizer.last_html) == starter
    assert submit(organizer, starter).status_code == 200
    assert 'id="checked"' in organizer.last_html  # "Le fichier est valide"


def test_the_help_is_a_page_of_the_app_linked_from_the_editor(app, organizer, new_client):
    organizer.get(EDITOR)
    assert f'href="{HELP}"' in organizer.last_html

    response = organizer.get(HELP)

    assert response.status_code == 200
    page = text(organizer.last_html)
    assert "Écrire un parcours" in page and "Les clés du fichier" in page and "migrate_from" in page
    assert "docs/workflows.md" not in organizer.last_html
    make_user(app, "member@example.org")
    member = new_client()
    log_in(member, "member@example.org")
    assert member.get(HELP).status_code == 403


# -- publishing asks first -------------------------------------------------------------------------


def test_publishing_asks_for_a_confirmation_that_counts_the_instances_in_progress(organizer, new_client, read):
    publish(organizer, SURVEY_V1)
    early = [new_client() for _ in range(2)]
    for visitor in early:
        assert wizard_state(visitor, "survey") == "contact"
    step(early[0], "survey", {"first_name": "Camille"})

    response = submit(organizer, SURVEY_V2_NO_MAP, "publish")

    assert response.status_code == 200 and 'id="confirm-form"' in organizer.last_html
    assert active_versions(read, "survey") == [1]  # nothing yet
    page = organizer.last_html
    assert re.search(r'id="in-progress" data-count="2"', page)
    assert re.search(r'<tr data-version="1"><td>1</td><td data-count="2">2</td></tr>', page)
    said = text(page)
    assert "2 instances sont en cours" in said
    assert "Elles restent sur leur version" in said
    assert "reçoivent la version 2 au lieu de la version 1" in said
    assert "ne figure pas sur la page d’accueil" in said

    response = organizer.post(EDITOR, {"source": textarea(page), "action": "publish", "confirm": confirmation(page)})

    assert response.status_code == 303
    assert active_versions(read, "survey") == [2]
    assert read().scalars(select(WorkflowInstance.version)).all() == [1, 1]  # as the page said
    assert wizard_state(early[0], "survey") == "topics"  # version 1's step


def test_the_confirmation_of_a_migration_says_how_many_move_and_how_many_stay(organizer, new_client):
    publish(organizer, SURVEY_V1)
    survey_instances(new_client)  # 1 in contact, 2 in topics, 1 in review

    submit(organizer, SURVEY_V2, "publish")

    page = organizer.last_html
    assert re.search(r'id="in-progress" data-count="4"', page)
    assert re.search(r'id="moving" data-count="2"', page) and re.search(r'id="staying" data-count="2"', page)
    assert "2 restent sur leur version" in text(page)


def test_a_get_never_publishes(organizer, read):
    organizer.get(EDITOR)
    spec, _ = check_text(FIXED, "workflow.yml")
    assert spec is not None

    asked = {"source": FIXED, "action": "publish"}
    for query in (asked, {**asked, "confirm": spec.checksum}):
        response = organizer.client.get(EDITOR, query_string=query)
        assert response.status_code == 200

    assert organizer.client.get("/organizer/workflows/sample/home").status_code == 405
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "sample") == 0


def test_a_confirmation_for_another_text_publishes_nothing(organizer, read):
    submit(organizer, FIXED, "publish")
    stale = confirmation(organizer.last_html)

    response = organizer.post(EDITOR, {"source": FIXED.replace("Votre âge", "Votre âge exact"), "action": "publish",
                                       "confirm": stale})

    assert response.status_code == 200 and 'id="confirm-form"' in organizer.last_html
    assert count(read(), WorkflowDefinition, WorkflowDefinition.workflow_id == "sample") == 0


# -- the home page -----------------------------------------------------------------------------------


def home_flows(client) -> list[str]:
    return re.findall(r'<li class="card" data-workflow="(\w+)">', client.get("/").get_data(as_text=True))


def test_a_published_workflow_is_on_the_home_page_only_where_the_organizer_puts_it(organizer, read):
    publish(organizer, FIXED)
    assert "sample" not in home_flows(organizer)  # off by default
    organizer.get("/organizer/workflows/sample")
    assert 'id="home-form"' in organizer.last_html and "Échantillon" in text(organizer.last_html)
    assert 'id="show-on-home"' in organizer.last_html and "checked" not in re.search(
        r'<input type="checkbox" id="show-on-home"[^>]*>', organizer.last_html).group(0)

    response = organizer.post("/organizer/workflows/sample/home", {"show": "y"})

    assert response.status_code == 303
    assert "sample" in home_flows(organizer)
    assert 'href="/w/sample">Échantillon</a>' in organizer.client.get("/").get_data(as_text=True)
    saved = read().get(switches.SiteSwitch, homepage.switch_name("sample"))
    assert saved.is_on and saved.changed_by == "orga@example.org"
    submit(organizer, FIXED.replace("version: 1", "version: 2"), "publish")
    assert "figure sur la page d’accueil" in text(organizer.last_html)

    organizer.get("/organizer/workflows/sample")
    organizer.post("/organizer/workflows/sample/home", {})

    assert "sample" not in home_flows(organizer)


def test_a_workflow_opened_from_another_page_cannot_be_put_on_the_home_page(organizer):
    organizer.get("/organizer/workflows/event_registration")
    assert 'id="home-form"' not in organizer.last_html
    organizer.post("/organizer/workflows/event_registration/home", {"show": "y"}, page="/organizer/workflows/")
    assert "event_registration" not in home_flows(organizer)


def test_long_workflow_ids_get_a_switch_name_that_fits():
    assert homepage.switch_name("signup") == "home:signup"
    long_name = homepage.switch_name("a" * 64)
    assert len(long_name) == homepage.NAME_LENGTH and long_name.startswith("home:#")
    assert long_name != homepage.switch_name("a" * 63 + "b")
