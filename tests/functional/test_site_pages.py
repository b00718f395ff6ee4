"""The footer on every page, the site's own pages (privacy and legal notices, terms, charter, contact), their
edit form, the consent boxes linking to them, and the favicon (contracts.md, Site-wide)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from engagement.db import transaction
from engagement.pages import legal
from engagement.pages.models import ContentPage
from engagement.pages.service import blocks
from engagement.workflow.checker import check_text
from tests.functional.helpers import text
from tests.functional.invitation_steps import log_in, make_user

FOOTER_LINKS = ["/confidentialite", "/mentions-legales", "/contact", "/conditions-d-adhesion", "/charte-des-benevoles"]
PLACEHOLDER = "[nom de l’association]"


def footer_links(page: str) -> list[str]:
    found = re.search(r'<footer class="site" data-testid="site-footer">(.*?)</footer>', page, re.S)
    assert found, "no footer on the page"
    return re.findall(r'href="([^"]+)"', found.group(1))


def as_role(app: Any, new_client: Any, role: str) -> Any:
    email = f"{role}@example.org"
    make_user(app, email, role=role)
    browser = new_client()
    log_in(browser, email)
    return browser


# -- the footer --------------------------------------------------------------------------------------------

PAGES = {  # who looks, and where (a wizard step, the member, organizer and analyst areas, the studio, errors)
    "visitor": ["/", "/events", "/committees", "/search", "/login", "/password/reset", "/w/volunteer",
                "/w/signup", "/confidentialite", "/pages/qui-sommes-nous", "/no-such-page", "/events/no-such-event"],
    "member": ["/", "/account", "/w/volunteer", "/organizer/", "/analyst/workflows/"],
    "organizer": ["/organizer/", "/organizer/events", "/organizer/campaigns", "/organizer/pages",
                  "/organizer/workflows/", "/organizer/workflows/editor", "/organizer/pages/contact/edit"],
    "analyst": ["/analyst/workflows/", "/analyst/explorer", "/analyst/workflows/volunteer", "/organizer/"],
}


@pytest.mark.parametrize("role", PAGES)
def test_every_page_has_the_footer_with_the_notices_contact_terms_and_charter(app, client, new_client, role):
    browser = client if role == "visitor" else as_role(app, new_client, role)
    seen = set()
    for url in PAGES[role]:
        response = browser.get(url)
        assert response.mimetype == "text/html", url
        assert footer_links(browser.last_html) == FOOTER_LINKS, url
        seen.add(response.status_code)
    assert 200 in seen and (role == "organizer" or seen - {200})  # errors (403, 404) carry it too


def test_every_html_page_without_arguments_has_the_footer(app, new_client):
    """Every GET route of the app that takes no argument, as an admin (who may open all of them)."""
    admin = as_role(app, new_client, "admin")
    walked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        response = admin.client.get(rule.rule)
        if response.mimetype == "text/html" and (response.status_code < 300 or response.status_code >= 400):
            assert footer_links(response.get_data(as_text=True)) == FOOTER_LINKS, rule.rule
            walked += 1
    assert walked >= 25  # home, lists, search, log-in, account, the organizer, analyst and admin areas, dev pages...


# -- the pages -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", legal.SLUGS)
def test_a_fresh_install_serves_each_page_with_its_default_text(client, read, slug):
    assert read().scalar(select(ContentPage.id).where(ContentPage.slug == slug)) is not None  # seeded at start-up
    response = client.get(f"/{slug}")
    assert response.status_code == 200
    assert f"<h1>{legal.defaults()[slug].title}</h1>" in text(client.last_html)


def test_a_page_whose_row_is_missing_still_shows_its_built_in_text(app, client):
    with transaction(app.extensions["engagement"].sessions) as session:
        session.delete(session.scalar(select(ContentPage).where(ContentPage.slug == "mentions-legales")))
    assert client.get("/mentions-legales").status_code == 200
    assert "Directeur ou directrice de la publication" in text(client.last_html)


def test_the_privacy_notice_is_a_gdpr_notice_for_a_political_movement(client):
    client.get("/confidentialite")
    page = text(client.last_html)
    for needed in ("Le responsable du traitement est", "délégué à la protection des données",
                   "article 9.2.d du RGPD", "opinions politiques", "Combien de temps", "droit d’accès",
                   "de rectification", "d’effacement", "portabilité", "CNIL", "3 place de Fontenoy",
                   PLACEHOLDER, "[adresse e-mail du DPO]"):
        assert needed in page, needed
    assert page.count("<h2>") >= 6 and "<li>" in page  # headings and lists, from the plain text


def test_the_old_address_of_a_site_page_redirects_to_its_own(client):
    response = client.get("/pages/confidentialite")
    assert response.status_code == 301 and response.headers["Location"].endswith("/confidentialite")


def test_plain_text_becomes_headings_lists_and_paragraphs():
    found = blocks("## Titre\n\nUn paragraphe\nsur deux lignes.\n\n- un\n- deux\n\n\n")
    assert [(b.kind, b.lines) for b in found] == [
        ("h2", ("Titre",)), ("p", ("Un paragraphe sur deux lignes.",)), ("ul", ("un", "deux"))]


def test_the_search_finds_a_site_page_at_its_own_address(app):
    from engagement.search.records import page_record

    with app.app_context():
        row = legal.shown(app.extensions["engagement"].sessions(), "charte-des-benevoles")
    record = page_record(row, row.updated_at)
    assert record is not None and record["url"] == "/charte-des-benevoles"


# -- editing ---------------------------------------------------------------------------------------------------

EDIT = "/organizer/pages/confidentialite/edit"


def test_a_national_organizer_edits_a_page_and_visitors_see_it_at_once(app, client, new_client, read):
    client.get("/confidentialite")  # a visitor's copy is now in the page cache
    organizer = as_role(app, new_client, "organizer")
    organizer.get("/organizer/pages")
    assert f'href="{EDIT}"' in organizer.last_html
    organizer.get(EDIT)
    assert PLACEHOLDER in text(organizer.last_html) and 'name="csrf_token"' in organizer.last_html
    body = "## Responsable\n\nL'association Agir ensemble, 1 rue de la Paix, 75002 Paris."
    response = organizer.post(EDIT, {"title": "Vos données", "body": body})
    assert response.status_code == 303 and response.headers["Location"].endswith("/organizer/pages")

    row = read().scalar(select(ContentPage).where(ContentPage.slug == "confidentialite"))
    assert (row.title, row.body) == ("Vos données", body)
    visitor = new_client()
    visitor.get("/confidentialite")
    page = text(visitor.last_html)
    assert "<h1>Vos données</h1>" in page and "<h2>Responsable</h2>" in page and "Agir ensemble" in page
    assert PLACEHOLDER not in page


def test_an_empty_title_or_text_is_refused_next_to_its_field(app, new_client, read):
    organizer = as_role(app, new_client, "organizer")
    organizer.get(EDIT)
    response = organizer.post(EDIT, {"title": "  ", "body": "Texte"})
    assert response.status_code == 422 and 'id="title-error"' in organizer.last_html
    assert read().scalar(select(ContentPage.title).where(ContentPage.slug == "confidentialite")) == (
        legal.defaults()["confidentialite"].title)


def test_the_edit_needs_the_csrf_token(app, new_client):
    organizer = as_role(app, new_client, "organizer")
    response = organizer.client.post(EDIT, data={"title": "Piraté", "body": "Piraté"})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["member", "analyst", "local organizer"])
def test_only_national_organizers_edit_pages(app, new_client, who):
    if who == "local organizer":
        make_user(app, "local@example.org", role="organizer", scopes=("department:75",))
        browser = new_client()
        log_in(browser, "local@example.org")
    else:
        browser = as_role(app, new_client, who)
    assert browser.get(EDIT).status_code == 403


def test_an_unknown_page_has_no_edit_form(app, new_client):
    assert as_role(app, new_client, "organizer").get("/organizer/pages/nope/edit").status_code == 404


# -- consent boxes link to the terms they name -----------------------------------------------------------------

@pytest.mark.parametrize(("flow", "step", "answers", "path"), [
    ("volunteer", "summary", [{"first_name": "Camille", "email": "c@example.org", "age": "30"},
                              {"missions": ["events"]}], "/charte-des-benevoles"),
    ("signup", "agreement", None, "/conditions-d-adhesion"),
])
def test_a_consent_box_links_to_the_terms_outside_its_label(client, flow, step, answers, path):
    page = _reach(client, flow, step, answers)
    box = re.search(r'<div class="check">(.*?)</div>\s*<p class="check-link"><a href="([^"]+)"', page, re.S)
    assert box and box.group(2) == path and "<a " not in box.group(1)  # the link is not in the label
    assert client.get(path).status_code == 200


def _reach(client: Any, flow: str, step: str, answers: list[dict[str, Any]] | None) -> str:
    if answers is None:  # sign-up: the step's own URL starts the instance there (a first visit at a step)
        from tests.functional.test_signup import HOME, IDENTITY, TOPICS

        answers = [IDENTITY, HOME, TOPICS]
    client.get(f"/w/{flow}")
    for data in answers:
        assert client.post(f"/w/{flow}", {**data, "trigger": "next"}).status_code == 303
        client.get(f"/w/{flow}")
    assert f'data-state="{step}"' in client.last_html, text(client.last_html)[:800]
    return client.last_html


WORKFLOW = """id: linked
version: 1
title: Lien
initial: ask
states:
  ask:
    title: Accord
    fields:
      - name: ok
        type: consent
        label: J'accepte
        link: {link}
  done: {{final: true, title: Fin}}
transitions:
  - {{trigger: next, source: ask, dest: done}}
"""


@pytest.mark.parametrize("link", ["//evil.example/charte", "https://evil.example", "/\\\\evil.example", "charte",
                                  "javascript:alert(1)", "'/a b'", "42"])
def test_the_checker_refuses_a_link_that_is_not_a_path_of_this_site(link):
    spec, diagnostics = check_text(WORKFLOW.format(link=link), "linked.yml")
    assert spec is None
    [diagnostic] = diagnostics
    assert (diagnostic.line, diagnostic.column) == (12, 15) and "link must be a path of this site" in diagnostic.message


def test_the_checker_takes_a_path_of_this_site_and_refuses_link_on_other_types():
    spec, diagnostics = check_text(WORKFLOW.format(link="/charte-des-benevoles#art-2"), "linked.yml")
    assert diagnostics == [] and spec is not None
    assert spec.states["ask"].fields[0].link == "/charte-des-benevoles#art-2"
    spec, diagnostics = check_text(WORKFLOW.format(link="/x").replace("type: consent", "type: boolean"), "l.yml")
    assert spec is None and "link does not apply to a boolean field" in diagnostics[0].message


# -- the favicon ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "mimetype"), [("/favicon.ico", "image/vnd.microsoft.icon"),
                                                ("/favicon.svg", "image/svg+xml")])
def test_the_favicon_is_served_and_kept_a_week(client, path, mimetype):
    response = client.client.get(path)
    assert response.status_code == 200 and response.mimetype == mimetype and response.content_length > 100
    assert "max-age=604800" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]


def test_every_page_names_the_favicon(client):
    client.get("/")
    assert '<link rel="icon" href="/favicon.ico"' in client.last_html
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in client.last_html


def test_a_page_s_own_paths_are_links_and_its_text_stays_escaped(client):
    client.get("/confidentialite")
    assert '<a href="/account/data">/account/data</a>' in client.last_html

    from engagement.pages.service import linked

    assert str(linked("<b>x</b> /confidentialite, http://x.org/a et 1/2")) == (
        '&lt;b&gt;x&lt;/b&gt; <a href="/confidentialite">/confidentialite</a>, http://x.org/a et 1/2')
