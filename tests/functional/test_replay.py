"""Replays and races: a step sent twice, a double-click on the first step, posts without an instance,
eight posts at once."""

from __future__ import annotations

import re
import threading
from typing import Any

import requests

from engagement.workflow.models import WorkflowInstance, WorkflowTransition
from tests.functional.helpers import (
    AVAILABILITY,
    IDENTITY,
    SUMMARY,
    URL,
    advance,
    count,
    in_wizard,
    instances,
    mails,
    state_of,
    text,
    transitions,
    untouched_start,
)

STALE_NOTICE = "Cette étape a déjà été envoyée\u00a0; voici où vous en êtes."


def send_again(client: Any, page: str, data: dict[str, Any], trigger: str = "next") -> Any:
    """Post ``data`` with the tokens of ``page``, an already submitted page (back button, double click)."""
    client.inner.last_html = page
    return client.post(URL, {**data, "trigger": trigger})


def test_step_sent_twice_records_one_transition_and_says_stale(client, read):
    client.get(URL)
    page = advance(client, IDENTITY)
    first = send_again(client, page, AVAILABILITY)
    assert first.status_code == 303 and in_wizard(first.headers["Location"], URL)
    second = send_again(client, page, AVAILABILITY)
    assert second.status_code == 303
    assert second.headers["Location"] == "/w/volunteer?stale=1"
    session = read()
    assert count(session, WorkflowTransition, WorkflowTransition.source == "availability") == 1
    assert len(transitions(session)) == 3  # identity->availability, availability->routing->summary
    client.get(second.headers["Location"])
    assert STALE_NOTICE in text(client.last_html)
    assert state_of(client.last_html) == "summary"


def test_stale_notice_shows_only_when_asked(client):
    client.get(URL)
    advance(client, IDENTITY)
    assert "déjà été envoyée" not in text(client.last_html)


def test_confirm_sent_twice_sends_one_mail(client, read):
    client.get(URL)
    advance(client, IDENTITY)
    advance(client, AVAILABILITY)
    page = advance(client, SUMMARY)  # the review page, whose button sends the welcome mail
    assert in_wizard(send_again(client, page, {}, "confirm").headers["Location"], URL)
    assert send_again(client, page, {}, "confirm").headers["Location"] == "/w/volunteer?stale=1"
    session = read()
    assert len(mails(session)) == 1
    assert count(session, WorkflowTransition, WorkflowTransition.dest == "done") == 1


def test_first_visit_starts_one_instance_and_the_next_visit_resumes_it(client, read):
    client.get(URL)
    assert state_of(client.last_html) == "identity"
    assert client.hidden("step") == "1"
    started = untouched_start(read())
    client.get(URL)
    assert state_of(client.last_html) == "identity"
    assert client.hidden("step") == "1"
    assert untouched_start(read()).id == started.id  # resumed: no second instance


def test_double_click_on_first_step_records_one_transition_on_one_instance(client, read):
    client.get(URL)
    page = client.last_html
    assert re.search(r'name="step" value="1"', page)
    started = untouched_start(read())
    first = send_again(client, page, IDENTITY)
    second = send_again(client, page, IDENTITY)
    assert first.status_code == 303 and in_wizard(first.headers["Location"], URL)
    assert second.status_code == 303 and second.headers["Location"] == "/w/volunteer?stale=1"
    session = read()
    [instance] = instances(session)
    assert instance.id == started.id and instance.state == "availability"
    assert [(t.instance_id, t.source, t.dest) for t in transitions(session)] == [
        (started.id, "identity", "availability")]
    client.get(second.headers["Location"])
    assert STALE_NOTICE in text(client.last_html)
    assert state_of(client.last_html) == "availability"


def test_post_without_a_session_cookie_is_refused_and_creates_nothing(client, new_client, read):
    client.get(URL)  # another visitor's page: a valid CSRF token and step token, but not this browser's
    stranger = new_client()
    response = stranger.client.post(URL, data={**IDENTITY, "trigger": "next", "step": client.hidden("step"),
                                               "csrf_token": client.hidden("csrf_token")})
    assert response.status_code == 400  # the CSRF token lives in the session: none, no valid token
    assert "Votre session a expiré" in text(response.get_data(as_text=True))
    untouched_start(read())  # only the other visitor's instance, untouched


def test_post_from_a_session_without_an_instance_goes_to_the_first_page_and_creates_nothing(
        client, new_client, read):
    client.get(URL)
    theirs = untouched_start(read())
    stranger = new_client()
    stranger.get("/login")  # a session (and CSRF token) that never opened the wizard
    response = stranger.post(URL, {**IDENTITY, "trigger": "next", "step": client.hidden("step")})
    assert response.status_code == 303 and in_wizard(response.headers["Location"], URL)
    assert untouched_start(read()).id == theirs.id  # nothing created, and the other visitor's instance unchanged
    stranger.get(response.headers["Location"])
    assert STALE_NOTICE not in text(stranger.last_html) and state_of(stranger.last_html) == "identity"
    first, second = instances(read())  # following the redirect starts the stranger's own instance
    assert first.id == theirs.id and (second.state, second.lock_version, second.data) == ("identity", 1, {})


# -- against the real server (gunicorn, two worker processes) -----------------------------------------

def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert found, page[:2000]
    return found.group(1)


def _browser(base: str) -> requests.Session:
    browser = requests.Session()
    assert browser.get(f"{base}{URL}", timeout=10).status_code == 200
    return browser


def _race(base: str, cookies: Any, payload: dict[str, Any], threads: int = 8) -> list[requests.Response]:
    """``threads`` clones of one browser (same cookies, same tokens) post ``payload`` at the same moment."""
    barrier, responses, lock = threading.Barrier(threads), [], threading.Lock()

    def post() -> None:
        clone = requests.Session()
        clone.cookies.update(cookies)
        barrier.wait()
        response = clone.post(f"{base}{URL}", data=payload, allow_redirects=False, timeout=30)
        with lock:
            responses.append(response)

    workers = [threading.Thread(target=post) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return responses


def _page_payload(browser: requests.Session, base: str, data: dict[str, Any]) -> dict[str, Any]:
    page = browser.get(f"{base}{URL}", timeout=10).text
    return {"csrf_token": _hidden(page, "csrf_token"), "step": _hidden(page, "step"), **data, "trigger": "next"}


def test_eight_concurrent_posts_of_one_step_record_one_transition(live_server, read):
    browser = _browser(live_server)
    started = browser.post(f"{live_server}{URL}", data=_page_payload(browser, live_server, IDENTITY),
                           allow_redirects=False, timeout=10)
    assert started.status_code == 303
    payload = _page_payload(browser, live_server, AVAILABILITY)
    responses = _race(live_server, browser.cookies, payload)
    assert len(responses) == 8
    assert all(r.status_code == 303 for r in responses), [r.status_code for r in responses]
    assert all("Traceback" not in r.text for r in responses)
    locations = sorted(r.headers["Location"] for r in responses)
    assert locations.count(f"{URL}/summary") == 1 and locations.count("/w/volunteer?stale=1") == 7
    session = read()
    assert count(session, WorkflowTransition, WorkflowTransition.source == "availability") == 1
    [instance] = instances(session)
    assert instance.state == "summary"


def test_eight_concurrent_first_steps_record_one_transition_on_one_instance(live_server, read):
    browser = _browser(live_server)  # its visit started the instance; the payload's page resumes it
    payload = _page_payload(browser, live_server, IDENTITY)
    assert payload["step"] == "1"
    responses = _race(live_server, browser.cookies, payload)
    assert sorted(r.status_code for r in responses) == [303] * 8
    locations = sorted(r.headers["Location"] for r in responses)
    assert locations.count(f"{URL}/availability") == 1 and locations.count("/w/volunteer?stale=1") == 7
    session = read()
    assert count(session, WorkflowInstance) == 1
    assert count(session, WorkflowTransition) == 1
    [instance] = instances(session)
    assert instance.state == "availability"
