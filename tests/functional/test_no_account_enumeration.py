"""Log-in, sign-up and password reset answer the same for an address with an account and one without:
same status, same page (once the CSRF and step tokens and the address echoed back are blanked), same
headers but the cookies' values. Both addresses have the same length, so Content-Length is compared too."""

from __future__ import annotations

import re
from typing import Any

from engagement.accounts.service import create_user
from engagement.db import transaction
from tests.functional.helpers import mails
from tests.functional.test_signup import AGREEMENT, HOME, IDENTITY, PASSWORD, TOPICS, URL

KNOWN, UNKNOWN = "camille.martin@example.org", "lucien.bernard@example.org"
assert len(KNOWN) == len(UNKNOWN)
CLOCK_DEPENDENT = {"Set-Cookie", "X-RateLimit-Reset", "Retry-After"}  # (cookies compared apart); the rest: the clock


def blanked(page: str, *emails: str) -> str:
    page = re.sub(r'(name="(?:csrf_token|step)"[^>]*value=")[^"]*"', r'\1"', page)
    for email in emails:
        page = page.replace(email, "EMAIL")
    return page


def answer(response: Any, *emails: str) -> tuple[int, str, dict[str, str], list[str]]:
    """(status, blanked page, headers but those following the clock, each Set-Cookie without its value
    and expiry date)."""
    headers = {name: value for name, value in response.headers.items() if name not in CLOCK_DEPENDENT}
    if "Location" in headers:
        headers["Location"] = blanked(headers["Location"], *emails)
    cookies = [re.sub(r"Expires=[^;]*", "Expires=…", re.sub(r"^([^=]+)=[^;]*", r"\1=…", value))
               for value in response.headers.getlist("Set-Cookie")]
    return response.status_code, blanked(response.get_data(as_text=True), *emails), headers, cookies


def with_account(app: Any, email: str = KNOWN) -> None:
    with transaction(app.extensions["engagement"].sessions) as session:
        user = create_user(session, email, password=PASSWORD)
        user.first_name = "Camille"


def test_log_in_answers_the_same_for_a_wrong_password_and_an_unknown_address(app, new_client):
    with_account(app)
    answers = []
    for email in (KNOWN, UNKNOWN):
        visitor = new_client()
        visitor.get("/login")
        response = visitor.post("/login", {"email": email, "password": "pas le bon mot de passe"})
        answers.append(answer(response, email))
    assert answers[0][0] == 422 and "Adresse e-mail ou mot de passe incorrect." in answers[0][1]
    assert answers[0] == answers[1]


def test_a_password_reset_answers_the_same_whether_or_not_the_address_has_an_account(app, new_client, read):
    with_account(app)
    answers = []
    for email in (KNOWN, UNKNOWN):
        visitor = new_client()
        visitor.get("/password/reset")
        answers.append(answer(visitor.post("/password/reset", {"email": email}), email))
    assert answers[0][0] == 200 and answers[0] == answers[1]
    assert [m.to for m in mails(read())] == [[KNOWN]]  # the page says the same whatever was sent


def signup_answers(visitor: Any, email: str) -> list[tuple[int, str, dict[str, str], list[str]]]:
    """Each step's answer, then the final page, for a visitor joining with ``email``."""
    answers = []
    for data, trigger in (({**IDENTITY, "email": email}, "next"), (HOME, "next"), (TOPICS, "next"),
                          (AGREEMENT, "next"), ({}, "join")):
        visitor.get(URL)
        answers.append(answer(visitor.post(URL, {**data, "trigger": trigger}), email))
    answers.append(answer(visitor.get(URL), email))
    return answers  # five steps (the review page's among them), then the final page


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(app, new_client, read):
    with_account(app)
    known, unknown = signup_answers(new_client(), KNOWN), signup_answers(new_client(), UNKNOWN)
    assert [a[0] for a in known] == [303, 303, 303, 303, 303, 200]
    assert "Vérifiez votre boîte mail" in known[-1][1]
    assert known == unknown
    sent = mails(read())  # one mail each: an activation link for the newcomer, a notice for the member
    assert sorted(m.to[0] for m in sent) == sorted([KNOWN, UNKNOWN])
