"""A member sees where they stand: the event's page says registered or waitlisted (with the position) and
offers to give the place up; one click takes a seat or joins the waitlist; a second registration says so;
/account lists upcoming events, waitlists, committees followed and invitations with their results. Real
forms with CSRF, through the Flask test client (and so through the page cache)."""

from __future__ import annotations

import re
from typing import Any

from engagement.db import transaction, utcnow
from engagement.invitations.models import Invitation
from tests.functional.helpers import text as decoded
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_committees import committee
from tests.functional.test_event_registration import (
    VISITOR,
    create_event,
    final_state,
    mails_to,
    open_registration,
    press,
    statuses,
)


def text(page: str) -> str:
    """The page decoded, French no-break spaces as plain ones."""
    return decoded(page).replace("\u00a0", " ").replace("\u202f", " ")


def member(app: Any, client: Any, email: str = "dominique@example.org") -> int:
    user_id = make_user(app, email, first_name="Dominique", last_name="Durand")
    log_in(client, email)
    return user_id


def my_place(page: str) -> str:
    """The text of the member's place panel ("" when the page has none)."""
    found = re.search(r'data-testid="my-place"[^>]*>(.*?)</div>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text(found.group(1))).split()) if found else ""


def primary_buttons(page: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", "", text(b)).split()) for b in
            re.findall(r'(?:<button type="submit" class="primary">|<a class="button primary"[^>]*>)'
                       r"(.*?)</(?:button|a)>", page, re.S)]


def take(client: Any, slug: str) -> str:
    client.get(f"/events/{slug}")
    response = client.post(f"/events/{slug}/places")
    assert response.status_code == 303 and response.headers["Location"] == f"/events/{slug}"
    client.get(f"/events/{slug}")
    return str(client.last_html)


def test_one_click_registers_and_the_page_then_says_so_with_no_register_button(client, app, read):
    member(app, client)
    slug = create_event(app, capacity=10)
    client.get(f"/events/{slug}")
    assert primary_buttons(client.last_html) == ["S’inscrire"] and my_place(client.last_html) == ""
    page = take(client, slug)
    assert my_place(page).startswith("Vous êtes inscrit·e")
    assert "Un e-mail de confirmation est en route" in text(page)
    assert primary_buttons(page) == [] and "S’inscrire" not in text(page)
    assert "Libérer ma place" in my_place(page)
    session = read()
    assert statuses(session, slug) == {"dominique@example.org": "registered"}
    assert [m.template for m in mails_to(session, "dominique@example.org")] == ["event_registered"]


def test_a_member_s_page_is_never_the_cached_copy(client, app):
    slug = create_event(app, capacity=10)
    app.test_client().get(f"/events/{slug}")
    assert app.test_client().get(f"/events/{slug}").headers["X-Page-Cache"] == "hit"
    member(app, client)
    response = client.get(f"/events/{slug}")
    assert "X-Page-Cache" not in response.headers and response.headers["Cache-Control"] == "private, no-cache"
    take(client, slug)
    anonymous = app.test_client().get(f"/events/{slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "9 places restantes" in anonymous and "Vous êtes" not in anonymous and "csrf_token" not in anonymous


def test_one_click_joins_a_full_event_s_waitlist_with_its_position(client, app, read):
    slug = create_event(app, capacity=2, taken=2)
    first = app.test_client()
    assert first.get(f"/events/{slug}").status_code == 200
    with transaction(app.extensions["engagement"].sessions) as session:
        from engagement.events import registration, service

        event = service.by_slug(session, slug)
        assert event is not None
        registration.place(session, event.id, registration.Person("ahead@example.org", "A", "B"), waitlist=True,
                           now=utcnow(), locale="fr")
    member(app, client)
    client.get(f"/events/{slug}")
    assert primary_buttons(client.last_html) == ["Rejoindre la liste d’attente"]  # one button, one label
    page = take(client, slug)  # the one click
    assert my_place(page).startswith("Vous êtes sur liste d’attente (position 2)")
    assert "Quitter la liste d’attente" in my_place(page)
    assert "vous pouvez rejoindre la liste d’attente" not in text(page)  # no call to join what they joined
    assert statuses(read(), slug)["dominique@example.org"] == "waitlisted"
    client.get(f"/events/{slug}/leave")
    client.post(f"/events/{slug}/leave")
    client.get(f"/events/{slug}")
    assert "Vous avez quitté la liste d’attente." in text(client.last_html)
    assert "Votre place est libérée" not in text(client.last_html)  # they had none
    assert statuses(read(), slug)["dominique@example.org"] == "cancelled"


def test_giving_the_place_up_asks_then_frees_it_for_the_first_waitlisted(client, app, read):
    slug = create_event(app, capacity=1)
    member(app, client)
    take(client, slug)
    with transaction(app.extensions["engagement"].sessions) as session:
        from engagement.events import registration, service

        event = service.by_slug(session, slug)
        assert event is not None
        assert registration.place(session, event.id, registration.Person("next@example.org", "N", "X"),
                                  waitlist=True, now=utcnow(), locale="fr") == "waitlisted"
    asked = client.get(f"/events/{slug}/leave")
    assert asked.status_code == 200 and "Libérer votre place ?" in text(client.last_html)
    assert statuses(read(), slug)["dominique@example.org"] == "registered"  # a GET changes nothing
    unsigned = client.client.post(f"/events/{slug}/leave")
    assert unsigned.status_code == 400  # no CSRF token: refused
    response = client.post(f"/events/{slug}/leave")
    assert response.status_code == 303 and response.headers["Location"] == f"/events/{slug}"
    client.get(f"/events/{slug}")
    assert my_place(client.last_html) == "" and "Votre place est libérée" in text(client.last_html)
    assert primary_buttons(client.last_html) == ["Rejoindre la liste d’attente"]  # the seat went to next@
    session = read()
    assert statuses(session, slug) == {"dominique@example.org": "cancelled", "next@example.org": "registered"}
    assert [m.template for m in mails_to(session, "next@example.org")] == ["event_waitlisted", "event_promoted"]


def test_a_second_registration_says_already_registered(client, app, read):
    member(app, client)
    slug = create_event(app, capacity=10)
    other_tab = open_registration(client, slug)  # the workflow, opened in one tab...
    take(client, slug)  # ...while the event page's button registers in another
    client.inner.last_html = other_tab  # back to the first tab, its form as it was
    closing = press(client, "register")
    assert final_state(closing) == "registered"
    assert "Vous êtes déjà inscrit·e" in text(closing) and "Vous êtes inscrit !" not in text(closing)
    again = client.get(f"/events/{slug}/register")
    assert again.status_code == 303 and again.headers["Location"] == f"/events/{slug}"
    client.get(f"/events/{slug}")
    assert "Vous êtes déjà inscrit·e" in text(client.last_html)
    assert [m.template for m in mails_to(read(), "dominique@example.org")] == ["event_registered"]


def test_a_visitor_registering_an_address_twice_is_not_told_whether_it_was(client, app):
    slug = create_event(app, capacity=10)
    open_registration(client, slug)
    press(client, "register", VISITOR)
    open_registration(client, slug)
    closing = press(client, "register", VISITOR)
    assert "déjà" not in text(closing)  # the form anyone may fill reveals nothing about an address


def test_the_member_button_takes_no_forged_post(app, read):
    slug = create_event(app)
    response = app.test_client().post(f"/events/{slug}/places")
    assert response.status_code == 400  # no CSRF token (anonymous pages carry none): refused
    assert statuses(read(), slug) == {}


def test_the_account_lists_events_waitlists_committees_and_invitations(client, app):
    user_id = member(app, client)
    host = make_user(app, "host@example.org")
    open_slug = create_event(app, "Réunion ouverte", capacity=10)
    full_slug = create_event(app, "Atelier complet", capacity=1, taken=1)
    take(client, open_slug)
    take(client, full_slug)
    followed = committee(app, "Comité du canal", host)
    client.get(f"/committees/{followed}")
    client.post(f"/committees/{followed}/follow")
    with transaction(app.extensions["engagement"].sessions) as session:
        for name, joined in (("Léa", True), ("Hugo", False)):
            session.add(Invitation(inviter_id=user_id, sender_first_name="Dominique", sender_last_name="Durand",
                                   sender_email="dominique@example.org", friend_first_name=name,
                                   friend_email=f"{name.lower()}@example.org", answers={}, subject="s", body="b",
                                   locale="fr", created_at=utcnow(), joined_user_id=host if joined else None,
                                   joined_at=utcnow() if joined else None))
    page = client.get("/account")
    html = text(client.last_html)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]

    def section(testid: str) -> str:
        found = re.search(rf'data-testid="{testid}">(.*?)</ul>', html, re.S)
        assert found, testid
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())

    assert "Réunion ouverte" in section("my-events") and "Atelier complet" not in section("my-events")
    assert "Atelier complet" in section("my-waitlists") and "position 1" in section("my-waitlists")
    assert "Comité du canal" in section("my-committees")
    invitations = section("my-invitations")
    assert "Léa" in invitations and "nous a rejoints" in invitations
    assert "Hugo" in invitations and "pas encore inscrit·e" in invitations
    for slug in (open_slug, full_slug):
        assert f'href="/events/{slug}"' in html
    assert f'href="/committees/{followed}"' in html
