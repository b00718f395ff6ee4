"""Answers and steps of workflows/invitation.yml shared by the invitation tests."""

from __future__ import annotations

import re
from typing import Any

from tests.functional.helpers import text

URL = "/w/invitation"
FRIEND = {"friend_first_name": "Camille", "friend_age": "34", "friend_gender": "female",
          "friend_position": "teacher"}
PROJECT = {"friend_project": "start_family"}
INTERESTS = {"friend_interests": ["education", "ecology"]}
REASONS = {"self_reasons": ["local_action", "act_not_complain"]}
SELF = {"self_first_name": "Dominique", "self_last_name": "Durand", "self_email": "dominique@example.org",
        "friend_email": "camille@example.net"}


def step(client: Any, data: dict[str, Any], trigger: str = "next") -> Any:
    client.get(URL)
    response = client.post(URL, {**data, "trigger": trigger})
    assert response.status_code == 303, text(client.last_html)[:1500]
    return response


def to_summary(client: Any, friend: dict[str, Any] | None = None, interests: dict[str, Any] | None = None) -> str:
    for data in (friend or FRIEND, PROJECT, interests or INTERESTS, REASONS):
        step(client, data)
    client.get(URL)
    return client.last_html


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea\b[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return text(found.group(1)).lstrip("\r\n")


def send(client: Any, **changes: Any) -> Any:
    """Submit the summary as shown (the generated message kept) plus the sender's and friend's details."""
    page = client.last_html
    from tests.functional.helpers import input_value

    data = {"message_subject": input_value(page, "message_subject"), "message_body": textarea(page, "message_body"),
            **SELF, **changes}
    response = client.post(URL, {**data, "trigger": "next"})
    if response.status_code != 303:
        return response  # the summary again, with its messages
    client.get(URL)  # the review page: to whom it goes, before it is sent
    assert 'data-state="check"' in client.last_html, text(client.last_html)[:1500]
    return client.post(URL, {"trigger": "send"})


# --- Shared by the functional invitation tests (the helpers above stay as they are) ---------------

SITE = "http://127.0.0.1:5000"  # engagement.config's default SITE_URL, the prefix of the mails' links
PASSWORD = "une phrase de passe solide"


def local(link: str) -> str:
    """A link of a mail as a path the test client can follow."""
    assert link.startswith(SITE + "/"), link
    return link[len(SITE):]


def mail_link(body: str, kind: str) -> str:
    """The path of the ``join`` or ``optout`` link in a mail's text body."""
    found = re.search(rf"http://\S+/invitation/{kind}/[A-Za-z0-9_.\-]+", body)
    assert found, body
    return local(found.group(0))


def invite(client: Any, friend_email: str = SELF["friend_email"], **changes: Any) -> Any:
    """The whole flow from a fresh start: the four steps, then the summary sent as composed."""
    to_summary(client)
    response = send(client, friend_email=friend_email, **changes)
    assert response.status_code == 303, text(client.last_html)[:1500]
    return response


def start_again(client: Any) -> None:
    """Press "Start again" on the closing page, as a browser would."""
    client.get(URL)
    closing = client.last_html.split(f'action="{URL}/restart"')[1]
    response = client.post(f"{URL}/restart", {"csrf_token": client.hidden("csrf_token", closing)})
    assert response.status_code == 303


def go_back(client: Any) -> Any:
    """Press Back on the page shown without typing anything (the step token only)."""
    assert f'formaction="{URL}/back"' in client.last_html
    return client.post(f"{URL}/back", {"step": client.hidden("step")})


def make_user(app: Any, email: str, role: str = "member", first_name: str = "Dominique",
              last_name: str = "Durand", scopes: tuple[str, ...] = ("national",)) -> int:
    """An active account with a password (engagement.accounts.service.create_user), by id; an organizer
    gets ``scopes`` (national unless told otherwise, as ``engagement users create`` does)."""
    from engagement.accounts import scopes as organizer_scopes
    from engagement.accounts.service import create_user
    from engagement.db import transaction, utcnow

    with transaction(app.extensions["engagement"].sessions) as session:
        user = create_user(session, email, role=role, password=PASSWORD)
        user.first_name, user.last_name = first_name, last_name
        session.flush()
        for spec in scopes if role == "organizer" else ():
            organizer_scopes.grant(session, user, spec, actor=None, now=utcnow())
        return user.id


def log_in(client: Any, email: str) -> None:
    client.get("/login")
    response = client.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, text(client.last_html)[:1500]


def figures(page: str) -> list[tuple[str, str]]:
    """(number, word) pairs of the member page's ``invitation-figures`` element."""
    found = re.search(r'<[^>]*data-testid="invitation-figures"[^>]*>(.*?)</p>', page, re.S)
    assert found, "no invitation figures on the page"
    return re.findall(r"<strong>\s*(\d+)\s*</strong>\s*([^<\s]+)", text(found.group(1)))
