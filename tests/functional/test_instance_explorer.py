"""The analysts' instance explorer: who may use it, searching, the transition log, the replay check,
and pseudonymisation of the page and the CSV export unless the viewer may see personal data."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from engagement.accounts.models import User
from engagement.db import transaction
from engagement.pseudonyms import pseudonym
from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from tests.functional.helpers import AVAILABILITY, URL, advance, confirm, instances, text
from tests.functional.invitation_steps import log_in, make_user
from web.explorer import views

ANSWER_EMAIL = "camille.answer@example.org"
IDENTITY = {"first_name": "Camille", "email": ANSWER_EMAIL, "age": "30"}
MEMBER = "marie.member@example.org"
LIST = "/analyst/workflows/volunteer/instances"


def page_of(instance_id: int) -> str:
    return f"{LIST}/{instance_id}"


@pytest.fixture
def walked(app, client, read) -> dict:
    """A member, logged in, answers two steps of the volunteer workflow (their email in an answer)."""
    member = make_user(app, MEMBER, first_name="Marie", last_name="Martin")
    log_in(client, MEMBER)
    client.get(URL)
    advance(client, IDENTITY)
    advance(client, AVAILABILITY)
    [instance] = instances(read())
    assert instance.state == "summary" and instance.actor_id == member
    return {"member": member, "instance": instance.id}


@pytest.fixture
def browser(app, new_client):
    """A logged-in browser for a new account with ``role`` (and the personal-data permission)."""

    def open_as(role: str, personal_data: bool = False):
        email = f"{role}{'.full' if personal_data else ''}@example.org"
        user_id = make_user(app, email, role=role)
        if personal_data:
            with transaction(app.extensions["engagement"].sessions) as session:
                session.get(User, user_id).can_see_personal_data = True
        opened = new_client()
        log_in(opened, email)
        opened.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        return opened

    return open_as


def csv_rows(response) -> list[dict[str, str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-instance="(\d+)">', page)]


def replay_notice(page: str) -> tuple[str, str]:
    found = re.search(r'<div class="notice" role="status" data-replay="([a-z]+)">(.*?)</div>', page, re.S)
    assert found, "no replay check on the page"
    return found.group(1), " ".join(text(found.group(2)).split())


# --- who may ---------------------------------------------------------------------------------------

def test_anonymous_visitors_log_in_and_members_and_organizers_are_refused(walked, new_client, browser):
    urls = ["/analyst/explorer", LIST, page_of(walked["instance"]), f"{LIST}?format=csv"]
    anonymous = new_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), url
    for role in ("member", "organizer"):
        refused = browser(role)
        for url in urls:
            assert refused.get(url).status_code == 403, (role, url)
    for role in ("analyst", "admin"):
        allowed = browser(role)
        for url in urls:
            assert allowed.get(url).status_code == 200, (role, url)


def test_the_explorer_lists_the_published_workflows(walked, browser):
    analyst = browser("analyst")
    analyst.get("/analyst/explorer")
    assert f'href="{LIST}"' in analyst.last_html


def test_an_unknown_workflow_or_an_instance_of_another_one_is_not_found(walked, browser):
    analyst = browser("analyst")
    assert analyst.get("/analyst/workflows/nope/instances").status_code == 404
    assert analyst.get(f"/analyst/workflows/signup/instances/{walked['instance']}").status_code == 404
    assert analyst.get(page_of(999_999)).status_code == 404


# --- pseudonymisation ------------------------------------------------------------------------------

def test_an_analyst_sees_pseudonyms_and_field_names_only(app, walked, browser):
    analyst = browser("analyst")
    alias = pseudonym(walked["member"], app.config["SECRET_KEY"])
    assert re.fullmatch(r"member-[0-9a-f]{10}", alias)
    for url in (LIST, page_of(walked["instance"])):
        analyst.get(url)
        page = text(analyst.last_html)
        assert ANSWER_EMAIL not in page and MEMBER not in page and "Camille" not in page and "Marie" not in page
        assert f"<td data-actor>{alias}</td>" in page or f"<dd data-actor>{alias}</dd>" in page
        assert 'data-testid="pseudonymised"' in page
    page = analyst.last_html
    assert '<span class="badge" data-field="email">email</span>' in page
    assert '<span class="badge" data-field="first_name">first_name</span>' in page
    assert 'data-testid="export-personal"' not in page


def test_an_analyst_allowed_personal_data_sees_answers_and_people(walked, browser):
    analyst = browser("analyst", personal_data=True)
    analyst.get(page_of(walked["instance"]))
    page = text(analyst.last_html)
    assert f'<span class="badge" data-field="email">email: {ANSWER_EMAIL}</span>' in page
    assert "first_name: Camille" in page
    assert f"<dd data-actor>{MEMBER}</dd>" in page and 'data-testid="pseudonymised"' not in page
    analyst.get(LIST)
    assert f"<td data-actor>{MEMBER}</td>" in analyst.last_html


def test_an_admin_sees_personal_data_without_a_permission(walked, browser):
    admin = browser("admin")
    admin.get(page_of(walked["instance"]))
    assert ANSWER_EMAIL in text(admin.last_html)


def test_the_csv_export_is_pseudonymised_and_full_only_for_those_allowed(app, walked, browser):
    alias = pseudonym(walked["member"], app.config["SECRET_KEY"])
    analyst = browser("analyst")
    response = analyst.get(f"{LIST}?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "pseudonymised" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert ANSWER_EMAIL not in body and MEMBER not in body and "Camille" not in body
    [row] = csv_rows(response)
    assert (row["instance"], row["state"], row["status"], row["actor"]) == (
        str(walked["instance"]), "summary", "in_progress", alias)
    assert row["answers"] == "age, driving_licence, email, first_name, missions, phone"
    assert analyst.get(f"{LIST}?format=csv&personal=1").status_code == 403

    allowed = browser("analyst", personal_data=True)
    assert ANSWER_EMAIL not in allowed.get(f"{LIST}?format=csv").get_data(as_text=True)  # pseudonymised by default
    full = allowed.get(f"{LIST}?format=csv&personal=1")
    assert full.status_code == 200
    [row] = csv_rows(full)
    assert row["actor"] == MEMBER and f'"email": "{ANSWER_EMAIL}"' in row["answers"]


def test_the_csv_export_follows_the_filters(walked, browser, client):
    analyst = browser("analyst")
    assert csv_rows(analyst.get(f"{LIST}?format=csv&status=completed")) == []
    assert [r["instance"] for r in csv_rows(analyst.get(f"{LIST}?format=csv&state=summary"))] == [
        str(walked["instance"])]


# --- searching -------------------------------------------------------------------------------------

@pytest.fixture
def several(app, new_client, read, factory) -> dict:
    """Four instances: in progress at identity, at summary, completed (version 4), and abandoned."""
    ids = {}
    for name, steps in (("identity", []), ("summary", [IDENTITY, AVAILABILITY]), ("done", "all"),
                        ("abandoned", [])):
        visitor = new_client()
        visitor.get(URL)
        if steps == "all":
            advance(visitor, IDENTITY)
            advance(visitor, AVAILABILITY)
            confirm(visitor, {"comment": "", "terms": "y"})
        for answers in steps if steps != "all" else []:
            advance(visitor, answers)
        ids[name] = instances(read())[-1].id
    with transaction(factory) as session:
        session.execute(update(WorkflowInstance).where(WorkflowInstance.id == ids["abandoned"])
                        .values(abandoned_at=datetime.now(UTC)))
        session.execute(update(WorkflowInstance).where(WorkflowInstance.id == ids["identity"])
                        .values(started_at=datetime(2026, 1, 15, 12, tzinfo=UTC)))
    return ids


def test_search_by_state_status_id_version_and_start_date(several, browser):
    analyst = browser("analyst")
    analyst.get(LIST)
    assert listed(analyst.last_html) == sorted(several.values(), reverse=True)
    cases = {
        "state=summary": [several["summary"]],
        "status=completed": [several["done"]],
        "status=abandoned": [several["abandoned"]],
        "status=in_progress": [several["summary"], several["identity"]],
        f"id={several['done']}": [several["done"]],
        "version=4&state=identity": [several["abandoned"], several["identity"]],
        "started_from=2026-01-15&started_to=2026-01-15": [several["identity"]],
        "started_to=2026-01-14": [],
    }
    for query, expected in cases.items():
        analyst.get(f"{LIST}?{query}")
        assert listed(analyst.last_html) == expected, query


def test_unknown_parameters_are_ignored(several, browser):
    analyst = browser("analyst")
    assert analyst.get(f"{LIST}?workflow_id=other&_external=1&state=summary").status_code == 200
    assert listed(analyst.last_html) == [several["summary"]]
    export = re.search(r'<a href="([^"]+)" data-testid="export">', analyst.last_html).group(1)
    assert text(export) == f"{LIST}?format=csv&state=summary"


def test_an_invalid_filter_is_shown_and_lists_nothing(several, browser):
    analyst = browser("analyst")
    response = analyst.get(f"{LIST}?version=7&started_from=yesterday")
    assert response.status_code == 200
    assert listed(analyst.last_html) == []
    assert 'id="version-error"' in analyst.last_html and 'id="started_from-error"' in analyst.last_html
    for query in ("id=99999999999999999999", "started_to=9999-12-31", "started_from=0001-01-01"):
        assert analyst.get(f"{LIST}?{query}").status_code == 200, query
        assert listed(analyst.last_html) == [] and '<p class="error"' in analyst.last_html, query
        assert analyst.get(f"{LIST}?{query}&format=csv").status_code == 400, query


def test_pages_of_instances_follow_each_other(several, browser, monkeypatch):
    monkeypatch.setattr(views, "PAGE", 3)
    analyst = browser("analyst")
    analyst.get(f"{LIST}?version=4")
    newest = sorted(several.values(), reverse=True)
    assert listed(analyst.last_html) == newest[:3]
    following = text(re.search(r'<a href="([^"]+)" rel="next">', analyst.last_html).group(1))
    assert "version=4" in following
    analyst.get(following)
    assert listed(analyst.last_html) == newest[3:]
    assert 'rel="next"' not in analyst.last_html
    analyst.get(f"{LIST}?version=4&before=99999999999999999999")  # out of range: the first page
    assert listed(analyst.last_html) == newest[:3]


# --- the transition log and its replay --------------------------------------------------------------

def test_the_log_shows_each_transition_and_the_replay_agrees(walked, browser, read):
    analyst = browser("analyst")
    analyst.get(page_of(walked["instance"]))
    rows = re.findall(r"<tr data-transition=\"\d+\">\s*<td>\d+</td>\s*<td>[^<]+</td>\s*<td>(\w+)</td>\s*"
                      r"<td>(\w+)</td>\s*<td>(\w+)</td>", analyst.last_html)
    assert rows == [("identity", "availability", "next"), ("availability", "routing", "next"),
                    ("routing", "summary", "route")]
    assert replay_notice(analyst.last_html) == (
        "consistent", "Replaying the 3 transitions from identity gives summary: the stored state.")


def test_back_is_replayed_too(client, read, browser):
    client.get(URL)
    advance(client, IDENTITY)
    response = client.post(f"{URL}/back", {"step": client.hidden("step")})
    assert response.status_code == 303
    client.get(URL)
    advance(client, IDENTITY)
    [instance] = instances(read())
    analyst = browser("analyst")
    analyst.get(page_of(instance.id))
    assert ">back</td>" in analyst.last_html
    assert replay_notice(analyst.last_html)[0] == "consistent"


def test_a_corrupted_stored_state_is_reported(walked, browser, factory):
    with transaction(factory) as session:
        session.execute(update(WorkflowInstance).where(WorkflowInstance.id == walked["instance"])
                        .values(state="guardian"))
    analyst = browser("analyst")
    analyst.get(page_of(walked["instance"]))
    assert replay_notice(analyst.last_html) == (
        "mismatch", "Mismatch: replaying the 3 transitions gives summary, but the stored state is guardian.")


def test_a_log_row_leaving_another_state_is_the_first_mismatch(walked, browser, factory):
    with transaction(factory) as session:
        second = session.scalars(select(WorkflowTransition).where(
            WorkflowTransition.instance_id == walked["instance"]).order_by(WorkflowTransition.id)).all()[1]
        second.source = "guardian"
        second_id = second.id
    analyst = browser("analyst")
    analyst.get(page_of(walked["instance"]))
    assert replay_notice(analyst.last_html) == (
        "mismatch", "Mismatch at transition 2: it leaves guardian, but the replay had reached availability.")
    assert re.search(rf'<tr data-transition="{second_id}" data-mismatch', analyst.last_html)


def test_an_instance_migrated_to_a_version_with_another_start_still_replays(app, walked, browser, read):
    from engagement import PROJECT_ROOT
    from engagement.workflow import definitions, migration
    from engagement.workflow.checker import check_text

    source = (PROJECT_ROOT / "workflows" / "volunteer.yml").read_text(encoding="utf-8")
    source = source.replace("version: 4", "version: 5\nmigrate_from: {4: {summary: summary}}", 1)
    source = source.replace("initial: identity", "initial: who").replace("  identity:", "  who:").replace(
        "source: identity", "source: who")
    spec, diagnostics = check_text(source, "volunteer.yml")
    assert diagnostics == [] and spec is not None
    with transaction(app.extensions["engagement"].sessions) as session:
        definitions.publish(session, spec, source, "volunteer.yml")
        assert migration.apply(session, spec, now=datetime.now(UTC), actor_id=None).moving == 1
    [moved] = instances(read())
    assert (moved.version, moved.state) == (5, "summary")

    analyst = browser("analyst")
    assert analyst.get(page_of(walked["instance"])).status_code == 200
    # Replayed from where it began (version 4's identity), not from version 5's start.
    assert replay_notice(analyst.last_html) == (
        "consistent", "Replaying the 4 transitions from identity gives summary: the stored state.")


def test_nobody_is_shown_a_password_s_hash(app, walked, browser):
    """A password field's answer is stored as its argon2 hash: even an admin's page and CSV mask it."""
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    with transaction(app.extensions["engagement"].sessions) as session:
        instance = session.get(WorkflowInstance, walked["instance"])
        instance.data = {**instance.data, "password": hashed}
    admin = browser("admin")
    admin.get(page_of(walked["instance"]))
    assert hashed not in admin.last_html and "password: ********" in text(admin.last_html)
    body = admin.get(f"{LIST}?format=csv&personal=1").get_data(as_text=True)
    assert "argon2" not in body and ANSWER_EMAIL in body
