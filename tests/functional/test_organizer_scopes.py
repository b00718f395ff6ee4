"""Scoped organizers: a committee's host manages that committee only, a department's referent their
department, national organizers everything; every organizer route is walked as an out-of-scope organizer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engagement.accounts.models import ScopeChange, User
from engagement.campaigns.models import Campaign
from engagement.committees import service as committees
from engagement.committees.models import CommitteeMembership
from engagement.db import transaction, utcnow
from engagement.events import service as events
from engagement.events.service import EventInput
from engagement.invitations.models import InvitationContent
from engagement.media.models import Media
from engagement.pages.models import ContentPage
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user
from web.organizer.scoping import POLICIES, policy_of

PARIS = {"street": "3 rue du Port", "postal_code": "75011", "city": "75111", "city_name": "Paris", "country": "FR"}
LYON = {"street": "1 place Bellecour", "postal_code": "69002", "city": "69382", "city_name": "Lyon", "country": "FR"}
NATIONAL_BY_DEFAULT = ("studio.",)  # blueprints under /organizer/ left to the guard: national organizers only
NATIONAL, HOST_A, HOST_B, REFERENT = ("nat@example.org", "alpha@example.org", "beta@example.org",
                                      "ref75@example.org")


@dataclass
class World:
    alpha: str  # committee slugs: alpha in Paris (75), beta in Lyon (69), gamma proposed in Paris
    beta: str
    gamma: str
    alpha_event: str
    beta_event: str
    media_id: int
    campaign_id: int
    page: str


def _committee(session: Any, name: str, address: dict[str, str], host_id: int, approve: bool = True) -> str:
    row = committees.propose(session, name=name, description="", address=address, creator_id=host_id, now=utcnow())
    session.flush()
    if approve:
        committees.decide(session, row, True, utcnow())
    return row.slug


def _event(session: Any, name: str, address: dict[str, str], committee_slug: str) -> str:
    begins = utcnow() + timedelta(days=10)
    committee = committees.by_slug(session, committee_slug)
    assert committee is not None
    data = EventInput(name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=2),
                      address=address, committee_id=committee.id)
    return events.create(session, data, None, utcnow()).slug


@pytest.fixture
def world(app: Any) -> World:
    nat = make_user(app, NATIONAL, role="organizer")
    host_a = make_user(app, HOST_A, role="organizer", scopes=())
    host_b = make_user(app, HOST_B, role="organizer", scopes=())
    make_user(app, REFERENT, role="organizer", scopes=("department:75",))
    with transaction(app.extensions["engagement"].sessions) as session:
        alpha = _committee(session, "Comité Alpha", PARIS, host_a)
        beta = _committee(session, "Comité Beta", LYON, host_b)
        gamma = _committee(session, "Comité Gamma", PARIS, host_b, approve=False)
        image = Media(key="ab/abc.png", content_type="image/png", width=10, height=10, byte_size=100,
                      sha256="a" * 64, uploaded_by_id=nat)
        page = ContentPage(slug="a-propos", title="À propos")
        session.add_all([image, page])
        session.flush()
        campaign = Campaign(audience=f"committee:{alpha}", audience_label="Comité Alpha", subject="Sujet Alpha",
                            body="Bonjour", author_id=nat, status="done", finished_at=utcnow())
        session.add(campaign)
        session.flush()
        return World(alpha, beta, gamma, _event(session, "Réunion Alpha", PARIS, alpha),
                     _event(session, "Réunion Beta", LYON, beta), image.id, campaign.id, page.slug)


def browser(new_client: Any, email: str) -> Any:
    client = new_client()
    log_in(client, email)
    client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


# --- the walk --------------------------------------------------------------------------------------

def organizer_rules(app: Any) -> list[Any]:
    return sorted((rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/organizer/")),
                  key=lambda rule: rule.rule)


def _arguments(app: Any, rule: Any, policy: str, world: World) -> dict[str, Any]:
    """Values for the rule's arguments that name the alpha committee's things (out of beta's host's scope)."""
    with app.extensions["engagement"].sessions() as session:
        piece = session.scalar(select(InvitationContent.id).order_by(InvitationContent.id).limit(1))
    slug = {"event": world.alpha_event, "committee": world.alpha, "decide": world.gamma}.get(policy, world.page)
    known = {"slug": slug, "kind": "committee" if policy == "audience" else "gender", "value": world.alpha,
             "piece_id": piece or 1, "media_id": world.media_id, "campaign_id": world.campaign_id,
             "workflow_id": "volunteer", "version": 1}
    missing = set(rule.arguments) - set(known)
    assert not missing, f"{rule.rule}: teach the walk a value for {missing}"
    return {name: known[name] for name in rule.arguments}


def _call(client: Any, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url, follow_redirects=False)
    return client.post(url, {}, page="/organizer/media")  # any page of the area carries the CSRF token


def test_every_organizer_route_declares_its_scope_and_refuses_an_out_of_scope_organizer(app, world, new_client):
    outsider, national, host = (browser(new_client, email) for email in (HOST_B, NATIONAL, HOST_A))
    in_scope = {"event": host, "committee": host, "audience": host, "campaign": host}
    undeclared, walked = [], 0
    for rule in organizer_rules(app):
        policy = policy_of(app.view_functions[rule.endpoint])
        if policy is None:  # the guard makes it national-only; say which, so that it gets declared
            undeclared.append(rule.endpoint)
            policy = "national"
        assert policy in POLICIES
        url = app.url_map.bind("localhost").build(rule.endpoint, _arguments(app, rule, policy, world))
        method = "GET" if "GET" in rule.methods else "POST"
        answer = _call(outsider, method, url)
        walked += 1
        if policy in ("any", "free"):
            assert answer.status_code != 403, f"{method} {url}: {answer.status_code}"
            if method == "GET":
                assert answer.status_code == 200, f"{method} {url}: {answer.status_code}"
                shown = text(outsider.last_html)
                for foreign in ("Comité Alpha", "Réunion Alpha", world.alpha_event, "Sujet Alpha"):
                    assert foreign not in shown, f"{url} shows {foreign!r} to another committee's host"
            continue
        assert answer.status_code == 403, f"{method} {url} as another committee's host: {answer.status_code}"
        if method == "GET":  # in scope: the page, or where its state sends (a finished campaign's confirmation)
            allowed = in_scope.get(policy, national).get(url, follow_redirects=False)
            assert allowed.status_code in (200, 303), f"{url} in scope: {allowed.status_code}"
            assert "/login" not in allowed.headers.get("Location", ""), url
    assert walked >= 25
    # Only the workflow studio (movement-wide by nature) relies on the guard's national default; a new
    # organizer route must say what it touches.
    assert [endpoint for endpoint in undeclared if not endpoint.startswith(NATIONAL_BY_DEFAULT)] == []


def test_the_walk_knows_every_policy_it_meets(app):
    declared = {policy_of(app.view_functions[r.endpoint]) for r in organizer_rules(app)} - {None}
    assert declared <= set(POLICIES) and {"event", "committee", "audience", "national", "any"} <= declared


# --- the done-when checks ---------------------------------------------------------------------------

def test_another_committees_event_export_and_audience_are_refused(world, new_client):
    outsider = browser(new_client, HOST_B)
    event = f"/organizer/events/{world.alpha_event}"
    for url in (f"{event}/edit", f"{event}/participants.csv", f"/organizer/audiences/committee/{world.alpha}.json",
                f"{event}/cancel", f"{event}/participants", "/organizer/audiences/department/75.json"):
        assert outsider.get(url).status_code == 403, url
    assert outsider.get(f"/organizer/events/{world.beta_event}/participants.csv").status_code == 200
    assert outsider.get(f"/organizer/audiences/committee/{world.beta}.json").status_code == 200
    assert outsider.get("/organizer/events/no-such-event/edit").status_code == 404


def test_a_hosts_event_list_shows_their_committees_events_only(world, new_client):
    host = browser(new_client, HOST_A)
    host.get("/organizer/events")
    assert "Réunion Alpha" in host.last_html and "Réunion Beta" not in host.last_html
    national = browser(new_client, NATIONAL)
    national.get("/organizer/events")
    assert "Réunion Alpha" in national.last_html and "Réunion Beta" in national.last_html


def test_a_referent_manages_their_departments_events_and_decides_its_proposals(world, new_client, read):
    referent = browser(new_client, REFERENT)
    assert referent.get(f"/organizer/events/{world.alpha_event}/edit").status_code == 200
    assert referent.get(f"/organizer/events/{world.beta_event}/edit").status_code == 403
    referent.get("/organizer/committees")
    assert f'data-committee="{world.gamma}"' in referent.last_html
    assert referent.post(f"/organizer/committees/{world.gamma}/approve", {}).status_code == 303
    assert read().scalar(select(committees.Committee.status).where(
        committees.Committee.slug == world.gamma)) == "approved"


def test_a_host_cannot_decide_a_proposal(world, new_client, read):
    host = browser(new_client, HOST_A)
    host.get("/organizer/committees")
    assert world.gamma not in host.last_html
    assert host.post(f"/organizer/committees/{world.gamma}/approve", {}).status_code == 403
    assert read().scalar(select(committees.Committee.status).where(
        committees.Committee.slug == world.gamma)) == "pending"


EVENT_FORM = {"name": "Porte-à-porte", "description": "", "category": "canvassing", "begins": "2099-12-05T10:00",
              "ends": "2099-12-05T12:00", "timezone": "Europe/Paris", "online_url": "", "capacity": "",
              "address-country": "FR", "address-street": "1 place Bellecour", "address-postal_code": "69002",
              "address-city": "69382", "address-city_name": ""}


def test_a_host_creates_events_only_for_their_committee(app, world, new_client, read):
    host = browser(new_client, HOST_A)
    host.get("/organizer/events/new")
    offered = re.findall(r'<option value="(\d+)"', host.last_html.split('name="committee"')[1].split("</select>")[0])
    alpha = read().scalar(select(committees.Committee.id).where(committees.Committee.slug == world.alpha))
    assert offered == [str(alpha)]
    refused = host.post("/organizer/events/new", {**EVENT_FORM, "committee": ""})
    assert refused.status_code == 422 and "committees you run" in text(host.last_html)
    host.get("/organizer/events/new")
    assert host.post("/organizer/events/new", {**EVENT_FORM, "committee": str(alpha)}).status_code == 303


def test_an_organizer_without_scope_sees_why_and_reaches_nothing(app, world, new_client):
    make_user(app, "nobody@example.org", role="organizer", scopes=())
    nobody = browser(new_client, "nobody@example.org")
    nobody.get("/organizer/")
    assert 'data-testid="unscoped"' in nobody.last_html
    assert nobody.get("/organizer/events").status_code == 403


def test_hosting_grants_the_committee_scope_only_to_organizers(app, world, new_client):
    with transaction(app.extensions["engagement"].sessions) as session:
        member = session.scalar(select(User).where(User.email == HOST_B))
        member.role = "member"
    outsider = browser(new_client, HOST_B)
    assert outsider.get(f"/organizer/events/{world.beta_event}/edit").status_code == 403
    with transaction(app.extensions["engagement"].sessions) as session:
        assert session.scalar(select(CommitteeMembership.role).where(CommitteeMembership.user_id == member.id))


# --- granting and revoking --------------------------------------------------------------------------

def test_an_admin_grants_and_revokes_a_scope_and_both_are_logged(app, world, new_client, read):
    make_user(app, "admin@example.org", role="admin")
    admin = browser(new_client, "admin@example.org")
    target = read().scalar(select(User.id).where(User.email == HOST_B))
    admin.get("/admin/users")
    assert f'/admin/users/{target}/scopes' in admin.last_html
    admin.get(f"/admin/users/{target}/scopes")
    assert admin.post(f"/admin/users/{target}/scopes", {"kind": "department", "target": "75"}).status_code == 303
    outsider = browser(new_client, HOST_B)
    assert outsider.get(f"/organizer/events/{world.alpha_event}/edit").status_code == 200
    admin.get(f"/admin/users/{target}/scopes")
    assert 'data-scope="department:75"' in admin.last_html
    assert admin.post(f"/admin/users/{target}/scopes/revoke", {"scope": "department:75"}).status_code == 303
    assert outsider.get(f"/organizer/events/{world.alpha_event}/edit").status_code == 403
    admin_id = read().scalar(select(User.id).where(User.email == "admin@example.org"))
    log = read().execute(select(ScopeChange.user_id, ScopeChange.actor_id, ScopeChange.action, ScopeChange.scope)
                         .order_by(ScopeChange.id)).all()
    assert log[-2:] == [(target, admin_id, "grant", "department:75"), (target, admin_id, "revoke", "department:75")]


def test_an_unknown_scope_is_refused_next_to_its_input(app, world, new_client):
    admin_id = make_user(app, "admin@example.org", role="admin")
    admin = browser(new_client, "admin@example.org")
    target_page = f"/admin/users/{admin_id}/scopes"
    admin.get(target_page)
    refused = admin.post(target_page, {"kind": "committee", "target": "no-such-committee"})
    assert refused.status_code == 422 and 'id="target-error"' in admin.last_html


def test_only_admins_reach_the_scopes_page(world, new_client):
    assert browser(new_client, NATIONAL).get("/admin/users/1/scopes").status_code == 403
