"""Events near a postal code (``/events?near=75011&km=10``): nearest first with the distance, the radius, online
events apart, the period and type filters, bad input answered in the page, the home page's "near you" for a
member, and the demo's Paris events. Real pages through the Flask test client (and its page cache)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from engagement import demo_events
from engagement.accounts.models import User
from engagement.clock import PARIS
from engagement.db import transaction, utcnow
from engagement.events import periods, service
from engagement.events.service import EventInput
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user
from web.events import finder


def place(postal_code: str, insee: str, name: str) -> dict[str, str]:
    return {"street": "1 place de la Mairie", "postal_code": postal_code, "city": insee, "city_name": name,
            "country": "FR"}


PARIS_4 = place("75004", "75104", "Paris 4e Arrondissement")  # 2,1 km from Paris 11e
PARIS_11 = place("75011", "75111", "Paris 11e Arrondissement")
PARIS_20 = place("75020", "75120", "Paris 20e Arrondissement")  # 1,6 km from Paris 11e
THIAIS = place("94320", "94073", "Thiais")  # 10,3 km from Paris 11e, 11,1 km from Paris 4e
LYON_1 = place("69001", "69381", "Lyon 1er Arrondissement")  # 1,5 km from Lyon 3e
MARSEILLE_2 = place("13002", "13202", "Marseille 2e Arrondissement")  # 1,1 km from Marseille 1er
AJACCIO = place("20000", "2A004", "Ajaccio")
SAINT_DENIS_974 = place("97400", "97411", "Saint-Denis")
LA_HAGUE = place("50440", "50041", "La Hague")  # 50460 is La Hague's and Cherbourg's, 13 km apart


def create_event(app: Any, name: str, address: dict[str, str] | None, *, days: float = 3, category: str = "meeting",
                 online: bool = False) -> str:
    """An event starting at noon (Paris) ``days`` days from today, or in ``days`` days from now when not whole."""
    begins = utcnow().replace(microsecond=0) + timedelta(days=days)
    if float(days).is_integer():
        noon = datetime.combine(periods.today(utcnow()) + timedelta(days=days), time(12), PARIS)
        begins = noon.astimezone(UTC)
    data = EventInput(name=name, description="", begins_at=begins, ends_at=begins + timedelta(hours=2),
                      address=address, online_url="https://visio.example.org/r" if online else None,
                      category=category)
    with transaction(app.extensions["engagement"].sessions) as session:
        return service.create(session, data, organizer_id=None, now=utcnow()).slug


def listed(client: Any, query: str) -> list[str]:
    """The names of the main list (its cards' h2), in order; online events (h3) are not in it."""
    assert client.get(f"/events{query}").status_code == 200
    return [text(name) for name in re.findall(r'<h2><a href="/events/[^"]+">([^<]+)</a></h2>', client.last_html)]


def distances(page: str) -> list[str]:
    return [text(found) for found in re.findall(r'data-testid="distance">([^<]+)<', page)]


def online_section(page: str) -> list[str]:
    found = re.search(r'data-testid="online-events">(.*?)</section>', page, re.S)
    return [text(name) for name in re.findall(r"<h3><a [^>]+>([^<]+)</a></h3>", found.group(1))] if found else []


def error_messages(page: str) -> list[str]:
    return [" ".join(text(re.sub(r"<[^>]+>", "", m)).split()) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>',
                                                                                    page, re.S)]


@pytest.fixture
def paris(app: Any) -> None:
    create_event(app, "Porte-à-porte dans le 4e", PARIS_4, days=1, category="canvassing")
    create_event(app, "Réunion dans le 11e", PARIS_11, days=5)
    create_event(app, "Débat dans le 20e", PARIS_20, days=2, category="debate")
    create_event(app, "Apéro à Thiais", THIAIS, days=4, category="convivial")
    create_event(app, "Tractage à Lyon", LYON_1, days=1, category="canvassing")
    create_event(app, "Formation en ligne", None, days=6, category="online", online=True)


def test_events_near_a_postal_code_come_nearest_first_with_their_distance(client, paris):
    names = listed(client, "?near=75011&km=10")
    assert names == ["Réunion dans le 11e", "Débat dans le 20e", "Porte-à-porte dans le 4e"]
    assert distances(client.last_html) == ["0,0\u00a0km", "1,6\u00a0km", "2,1\u00a0km"]
    summary = text(client.last_html)
    assert "3 événements à moins de 10\u00a0km de 75011 Paris 11e Arrondissement" in summary
    assert 'value="75011"' in client.last_html and '<option value="10" selected>' in client.last_html


def test_the_radius_leaves_out_farther_events_and_a_wider_one_takes_them_in(client, paris):
    assert listed(client, "?near=75011&km=2") == ["Réunion dans le 11e", "Débat dans le 20e"]
    assert listed(client, "?near=75011&km=11") == [
        "Réunion dans le 11e", "Débat dans le 20e", "Porte-à-porte dans le 4e", "Apéro à Thiais"]
    assert "Tractage à Lyon" not in listed(client, "?near=75011&km=200")
    assert listed(client, "?near=75011&km=1") == ["Réunion dans le 11e"]


def test_the_default_radius_is_10_km(client, paris):
    assert listed(client, "?near=75011") == listed(client, "?near=75011&km=10")


def test_online_events_are_listed_apart(client, paris):
    assert "Formation en ligne" not in listed(client, "?near=75011&km=10")
    assert online_section(client.last_html) == ["Formation en ligne"]
    assert ">En ligne</h2>" in client.last_html
    listed(client, "?near=75011&category=debate")
    assert online_section(client.last_html) == []  # the type narrows the online events too


def test_the_type_and_period_filters_narrow_the_events_near(client, app, paris):
    assert listed(client, "?near=75011&km=10&category=debate") == ["Débat dans le 20e"]
    assert listed(client, "?near=75011&km=20&category=online") == []
    assert online_section(client.last_html) == ["Formation en ligne"]
    in_two_days = periods.today(utcnow() + timedelta(days=2)).isoformat()
    assert listed(client, f"?near=75011&from={in_two_days}&to={in_two_days}") == ["Débat dans le 20e"]
    assert listed(client, f"?near=75011&from={in_two_days}") == ["Réunion dans le 11e", "Débat dans le 20e"]
    assert online_section(client.last_html) == ["Formation en ligne"]
    tomorrow = periods.today(utcnow() + timedelta(days=1)).isoformat()
    assert listed(client, f"?near=75011&to={tomorrow}") == ["Porte-à-porte dans le 4e"]
    assert online_section(client.last_html) == []


@pytest.mark.parametrize("when", periods.PRESETS)
def test_a_named_period_lists_the_events_of_its_days(client, app, when):
    today, days = periods.today(utcnow()), (0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 20, 32)
    for n in days:
        create_event(app, f"Jour {n}", PARIS_11, days=n)  # at noon, for two hours
    first, last = periods.preset(when, today)
    under_way = utcnow() < datetime.combine(today, time(14), PARIS)
    expected = [f"Jour {n}" for n in days if first <= today + timedelta(days=n) <= last and (n or under_way)]
    assert listed(client, f"?near=75011&when={when}") == expected
    assert f'<option value="{when}" selected>' in client.last_html
    assert len(listed(client, "?near=75011&when=never")) == len(days) - (not under_way)  # unknown: narrows nothing


@pytest.mark.parametrize(("query", "field", "message"), [
    ("?near=abc", "near", "Saisissez un code postal de 5 chiffres, par exemple 75011."),
    ("?near=750", "near", "Saisissez un code postal de 5 chiffres, par exemple 75011."),
    ("?near=99999", "near", "Aucune commune française n’a le code postal 99999"),
    ("?near=75011&km=0", "km", "Saisissez un nombre entier de kilomètres, de 1 à 200."),
    ("?near=75011&km=500", "km", "Saisissez un nombre entier de kilomètres, de 1 à 200."),
    ("?near=75011&km=abc", "km", "Saisissez un nombre entier de kilomètres, de 1 à 200."),
    ("?near=75011&km=-3", "km", "Saisissez un nombre entier de kilomètres, de 1 à 200."),
    ("?near=75011&from=2026-13-45", "from", "Saisissez une date comme 2026-12-10."),
    ("?near=75011&from=2026-12-10&to=2026-12-01", "to", "La date de fin doit être la même que la date de début"),
])
def test_bad_input_is_explained_in_the_page_and_nothing_is_listed(client, paris, query, field, message):
    assert listed(client, query) == []
    page = client.last_html
    assert 'class="error-summary"' in page and f'href="#{field}"' in page
    assert any(message in shown for shown in error_messages(page)), error_messages(page)
    assert f'id="{field}"' in page and 'aria-invalid="true"' in page


def test_the_old_postal_code_filter_searches_near_it(client, paris):
    assert listed(client, "?postal_code=75004") == ["Porte-à-porte dans le 4e", "Réunion dans le 11e",
                                                    "Débat dans le 20e"]
    assert 'name="near" value="75004"' in client.last_html


@pytest.mark.parametrize(("near", "km", "address", "shown"), [
    ("69003", 10, LYON_1, "1,5\u00a0km"),
    ("13001", 10, MARSEILLE_2, "1,1\u00a0km"),
    ("94320", 15, PARIS_4, "11,1\u00a0km"),
    ("20000", 5, AJACCIO, "0,0\u00a0km"),
    ("97400", 5, SAINT_DENIS_974, "0,0\u00a0km"),
    ("50460", 5, LA_HAGUE, "0,0\u00a0km"),  # the nearest of the code's communes, not their middle
])
def test_postal_codes_across_france_find_their_events(client, app, near, km, address, shown):
    create_event(app, "Ici", address)
    create_event(app, "Ailleurs", LYON_1 if near == "13001" else MARSEILLE_2)
    assert listed(client, f"?near={near}&km={km}") == ["Ici"]
    assert distances(client.last_html) == [shown]
    assert listed(client, f"?near={near}&km=1") == (["Ici"] if shown.startswith("0,") else [])


def test_thiais_reaches_paris_only_with_a_wide_enough_radius(client, paris):
    assert listed(client, "?near=94320&km=10") == ["Apéro à Thiais"]
    assert listed(client, "?near=94320&km=11") == ["Apéro à Thiais", "Réunion dans le 11e"]


def test_the_page_cache_keeps_one_copy_per_search(app, paris):
    near = app.test_client().get("/events?near=75011&km=2")
    wider = app.test_client().get("/events?near=75011&km=20")
    again = app.test_client().get("/events?near=75011&km=2")
    assert near.headers["Cache-Control"] == "public, max-age=0, s-maxage=60"
    assert near.get_data() != wider.get_data() and again.headers["X-Page-Cache"] == "hit"
    assert b"Apero" not in near.get_data() and "Apéro à Thiais".encode() in wider.get_data()
    filtered = app.test_client().get("/events?near=75011&km=20&category=convivial")
    names = re.findall(r'<h2><a href="/events/[^"]+">([^<]+)</a></h2>', text(filtered.get_data(as_text=True)))
    assert names == ["Apéro à Thiais"]


def test_a_member_with_an_address_sees_the_events_near_them_on_the_home_page(client, app, paris):
    user_id = make_user(app, "membre@example.org")
    with transaction(app.extensions["engagement"].sessions) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.address = PARIS_11
    anonymous = app.test_client().get("/")
    assert b'data-testid="home-near"' not in anonymous.get_data()
    assert anonymous.headers["Cache-Control"].startswith("public")
    log_in(client, "membre@example.org")
    response = client.get("/")
    assert "public" not in response.headers["Cache-Control"]
    section = re.search(r'data-testid="home-near">(.*?)</section>', client.last_html, re.S)
    assert section, "no near-you section"
    names = [text(n) for n in re.findall(r"<h3><a [^>]+>([^<]+)</a></h3>", section.group(1))]
    assert names == ["Réunion dans le 11e", "Débat dans le 20e", "Porte-à-porte dans le 4e"]
    assert distances(section.group(1)) == ["0,0\u00a0km", "1,6\u00a0km", "2,1\u00a0km"]
    assert 'href="/events?near=75011"' in section.group(1)


def test_a_member_without_an_address_gets_no_near_you_section(client, app, paris):
    make_user(app, "sans-adresse@example.org")
    log_in(client, "sans-adresse@example.org")
    client.get("/")
    assert 'data-testid="home-near"' not in client.last_html


def test_the_demo_paris_events_are_near_75011(client, app):
    with transaction(app.extensions["engagement"].sessions) as session:
        demo_events.load(session, utcnow())
    names = listed(client, "?near=75011&km=10")
    assert names == ["Débat\u00a0: quelle santé pour nos quartiers\u00a0?", "Réunion publique\u00a0: l’école de demain"]
    assert distances(client.last_html) == ["2,1\u00a0km", "2,1\u00a0km"]
    assert online_section(client.last_html) == ["Formation en ligne\u00a0: animer un comité"]


def test_the_events_near_come_page_by_page_with_the_search_kept(client, paris, monkeypatch):
    monkeypatch.setattr(finder, "PAGE_SIZE", 2)
    assert listed(client, "?near=75011&km=10&category=") == ["Réunion dans le 11e", "Débat dans le 20e"]
    more = re.search(r'<a href="(/events\?[^"]+)">Plus d’événements</a>', client.last_html)
    assert more, client.last_html[-1200:]
    assert text(more.group(1)) == "/events?page=2&near=75011&km=10"
    assert listed(client, text(more.group(1))[len("/events"):]) == ["Porte-à-porte dans le 4e"]
    assert online_section(client.last_html) == []  # online events are listed with the first page
