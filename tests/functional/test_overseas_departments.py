"""Members, committees and events of the overseas territories and Corsica, through the pages and the command
line: a sign-up stores its territory's own code (988 Nouméa, 987 Papeete, 986 Uvea, 975, 977, 978...), and that
code is an audience, a scope and a filter; 98, 99 and 20 are none."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engagement.accounts.models import User
from engagement.db import transaction
from tests.functional.helpers import text
from tests.functional.invitation_steps import make_user
from tests.functional.test_committees import committee
from tests.functional.test_committees import listed as committees_listed
from tests.functional.test_event_registration import create_event
from tests.functional.test_event_registration import listed as events_listed
from tests.functional.test_signup import AGREEMENT, IDENTITY, TOPICS, activation_link, join, step
from tests.unit.test_geo_departments import OVERSEAS, first_with_postal_code

SAMPLES = {code: found for code in (*OVERSEAS, "2A", "2B") if (found := first_with_postal_code(code))}
NOUMEA = {"street": "1 rue de Sébastopol", "postal_code": "98800", "city": "98818", "city_name": "Nouméa",
          "country": "FR"}
PAPEETE = {"street": "1 boulevard Pomare", "postal_code": "98714", "city": "98735", "city_name": "Papeete",
           "country": "FR"}
NOT_A_DEPARTMENT = "pas un numéro de département français."  # after "Ce n’est"


def home(postal_code: str, city: str) -> dict[str, str]:
    return {"address-country": "FR", "address-street": "1 rue de la Paix", "address-postal_code": postal_code,
            "address-city": city}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_a_sign_up_in_the_territory_stores_its_own_code(client, read, code):
    commune, postal_code = SAMPLES[code]
    for data in (IDENTITY, home(postal_code, commune.code), TOPICS, AGREEMENT):
        step(client, data)
    step(client, {}, "join")
    user = read().query(User).one()
    assert (user.address["city"], user.department) == (commune.code, code)


def test_a_member_moving_to_noumea_is_in_988(client, new_client, read):
    join(client)
    visitor = new_client()
    visitor.get("/" + activation_link(read))
    visitor.get("/account/edit")
    response = visitor.post("/account/edit", {**home("98800", "98818"), "interests": ["ecology"]})
    assert response.status_code == 303
    assert read().query(User).one().department == "988"


def test_the_committees_list_filters_each_pacific_collectivity_apart(app, client):
    host = make_user(app, "host@example.org")
    noumea, papeete = committee(app, "Nouméa", host, address=NOUMEA), committee(app, "Papeete", host, address=PAPEETE)
    assert committees_listed(client.get("/committees?department=988").get_data(as_text=True)) == {noumea}
    assert committees_listed(client.get("/committees?department=987").get_data(as_text=True)) == {papeete}
    assert committees_listed(client.get("/committees?department=986").get_data(as_text=True)) == set()
    for code in ("98", "99", "20"):
        assert committees_listed(client.get(f"/committees?department={code}").get_data(as_text=True)) == set()
        assert NOT_A_DEPARTMENT in text(client.last_html), code


def test_the_events_list_filters_by_collectivity_and_says_when_a_code_is_none(app, client):
    create_event(app, "Nouméa", address=NOUMEA)
    create_event(app, "Papeete", address=PAPEETE)
    assert events_listed(client, "?department=988") == ["Nouméa"]
    assert events_listed(client, "?department=987") == ["Papeete"]
    for code in ("98", "99", "20"):
        assert events_listed(client, f"?department={code}") == []
        assert NOT_A_DEPARTMENT in text(client.last_html) and 'aria-invalid="true"' in client.last_html, code


@pytest.mark.parametrize(("code", "bad"), [("988", False), ("975", False), ("977", False), ("98", True),
                                           ("20", True)])
def test_the_search_takes_every_collectivity_code(app, client, code, bad):
    client.get(f"/search?department={code}")
    assert ('aria-invalid="true"' in client.last_html) is bad


def _members(app: Any, address: dict[str, str], count: int) -> None:
    """``count`` active members living at ``address``, their department set as a sign-up sets it."""
    ids = [make_user(app, f"member{number}.{address['city']}@example.org") for number in range(count)]
    with transaction(app.extensions["engagement"].sessions) as session:
        for user_id in ids:
            session.get(User, user_id).address = dict(address)


@pytest.mark.parametrize("code", ["988", "987", "975", "977", "978", "2A"])
def test_campaign_send_takes_a_collectivity_as_its_audience(app, cli, tmp_path, code):
    _members(app, NOUMEA, 2)
    _members(app, PAPEETE, 1)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour.", encoding="utf-8")
    result = cli("campaign", "send", "--audience", f"department:{code}", "--subject", "S", "--body-file", str(body))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recipients"] == {"988": 2, "987": 1}.get(code, 0)


@pytest.mark.parametrize("code", ["98", "99", "20"])
def test_campaign_send_refuses_a_code_that_names_no_department(cli, tmp_path, code):
    body = tmp_path / "body.txt"
    body.write_text("Bonjour.", encoding="utf-8")
    result = cli("campaign", "send", "--audience", f"department:{code}", "--subject", "S", "--body-file", str(body))
    assert result.exit_code == 1 and "is not an audience" in result.stderr


def test_a_referent_of_each_collectivity_is_granted_and_98_refused(cli):
    cli("users", "create", "orga@example.org", "--role", "organizer", "--scope", "department:988")
    for code in ("975", "977", "978", "986", "987", "2b"):
        assert cli("users", "scope", "orga@example.org", "--grant", f"department:{code}").exit_code == 0, code
    for code in ("98", "99", "20"):
        result = cli("users", "scope", "orga@example.org", "--grant", f"department:{code}")
        assert result.exit_code == 1 and "is not a scope" in result.stderr, code
    held = cli("users", "scope", "orga@example.org", "--list").stdout.split()
    assert held == ["department:2B", *(f"department:{c}" for c in ("975", "977", "978", "986", "987", "988"))]
