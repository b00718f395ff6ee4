"""Every state-changing route of ``app.url_map`` refuses a missing or a foreign CSRF token, and changes
nothing; the few routes exempted from CSRF are listed here with the reason, and no other may appear."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter, Rule

from engagement.db import Base
from tests.functional.helpers import text
from web.extensions import csrf

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED = "Votre session a expiré ou le formulaire a été envoyé deux fois. Veuillez réessayer."
#: endpoint -> why it takes POSTs without a CSRF token (each has a credential of its own).
EXEMPT = {
    "webhooks.mailjet": "Mailjet's event callback: authenticated by the secret of its URL (Basic auth)",
    "webhooks.stripe": "Stripe's payment events: authenticated by Stripe's signature of the body (the library's check)",
    "unsubscribe.unsubscribe": "RFC 8058 one-click List-Unsubscribe: mail clients POST without a form; "
                               "the signed token is the credential",
    "invitations.optout": "RFC 8058 one-click opt-out of invitations: the signed token is the credential",
    "events.cancel": "the link of a registration mail: the signed token is the credential, a page asks first",
    "core.choose_language": "sets the language cookie and nothing else (no session, no row): a forged one "
                            "changes a page's language; a token would keep pages from being cached",
}
#: endpoint -> why CSRFProtect's before-request check is off for it; the view checks the token itself, first
#: thing, so the walk below still requires the same refusal.
CHECKED_IN_VIEW = {
    "organizer.media_upload": "an image is larger than the app-wide body limit the before-request check reads "
                              "the form under: the view raises the limit for itself, then checks the token",
}
NOT_SESSION_DATA = {"http_sessions"}  # a visit stores its session (and CSRF secret) there: not a state change


def unsafe_rules(app: Any) -> list[tuple[Rule, str]]:
    return sorted(((rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods & UNSAFE)),
                  key=lambda pair: (pair[0].rule, pair[1]))


def is_exempt(app: Any, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views


def url_of(app: Any, rule: Rule) -> str:
    """The rule's URL with well-formed arguments (digits for ints), so that routing matches it."""
    values = {name: 1 if isinstance(converter, IntegerConverter) else "signup"
              for name, converter in rule._converters.items()}
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def row_counts(read: Any) -> dict[str, int]:
    session = read()
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables if table.name not in NOT_SESSION_DATA}


def test_the_walk_covers_the_state_changing_routes(app):
    endpoints = {rule.endpoint for rule, _method in unsafe_rules(app)}
    assert {"auth.login", "auth.logout", "wizard.submit", "organizer.campaign_new", "admin.set_role",
            "studio.check", "committees.follow", "admin.under_attack"} <= endpoints
    assert len(endpoints) >= 30


def test_the_exempt_routes_are_exactly_those_listed(app):
    exempt = {rule.endpoint for rule, _method in unsafe_rules(app) if is_exempt(app, rule.endpoint)}
    assert exempt == set(EXEMPT) | set(CHECKED_IN_VIEW), \
        "a route was exempted from CSRF: list it in EXEMPT with the reason, or protect it"
    assert not csrf._exempt_blueprints


@pytest.mark.parametrize("token", ["missing", "foreign"])
def test_every_state_changing_route_refuses_a_bad_token(app, client, new_client, read, token):
    client.get("/login")  # this visitor has a session, and a token of its own
    other = new_client()
    other.get("/login")
    foreign = other.hidden("csrf_token")
    assert foreign != client.hidden("csrf_token")
    before = row_counts(read)
    checked = []
    for rule, method in unsafe_rules(app):
        if rule.endpoint in EXEMPT:
            continue
        data = {"csrf_token": foreign} if token == "foreign" else {}
        response = client.client.open(url_of(app, rule), method=method, data=data)
        body = text(response.get_data(as_text=True))
        assert response.status_code == 400 and REFUSED in body, (method, rule.rule, response.status_code)
        checked.append(rule.endpoint)
    assert len(checked) == len([r for r, _m in unsafe_rules(app) if r.endpoint not in EXEMPT]) >= 30
    assert row_counts(read) == before
    # the control: the visitor's own token passes the same check
    assert client.post("/logout", {}, page="/login").status_code in (302, 303)
