"""Replays and races: a step sent twice, a double-click on the first step, eight posts at once."""

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
    instances,
    mails,
    state_of,
    text,
    transitions,
)

STALE_NOTICE = "Cette étape a déjà été envoyée ; voici où vous en êtes."


def send_again(client: Any, page: str, data: dict[str, Any], trigger: str = "next") -> Any:
    """Post ``data`` with the tokens of ``page``, an already submitted page (back button, double click)."""
    client.inner.last_html = page
    return client.post(URL, {**data, "trigger": trigger})


def test_step_sent_twice_records_one_transition_and_says_stale(client, read):
    client.get(URL)
    page = advance(client, IDENTITY)
    first = send_again(client, page, AVAILABILITY)
    assert first.status_code == 303 and first.headers["Location"] == URL
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
    page = advance(client, AVAILABILITY)
    assert send_again(client, page, SUMMARY, "confirm").headers["Location"] == URL
    assert send_again(client, page, SUMMARY, "confirm").headers["Location"] == "/w/volunteer?stale=1"
    session = read()
    assert len(mails(session)) == 1
    assert count(session, WorkflowTransition, WorkflowTransition.dest == "done") == 1


def test_double_click_on_first_step_starts_one_instance(client, read):
    client.get(URL)
    page = client.last_html
    assert re.search(r'name="step" value="0-[0-9a-f]{32}"', page)
    first = send_again(client, page, IDENTITY)
    second = send_again(client, page, IDENTITY)
    assert first.headers["Location"] == URL
    assert second.status_code == 303 and second.headers["Location"] == "/w/volunteer?stale=1"
    session = read()
    assert len(instances(session)) == 1
    assert len(transitions(session)) == 1
    client.get(URL)
    assert state_of(client.last_html) == "availability"


def test_first_step_without_start_token_starts_nothing(client, read):
    client.get(URL)
    response = client.post(URL, {**IDENTITY, "trigger": "next", "step": "0"})
    assert response.headers["Location"] == "/w/volunteer?stale=1"
    assert instances(read()) == []


def test_each_visit_gets_its_own_start_token(client):
    tokens = set()
    for _ in range(3):
        client.get(URL)
        tokens.add(client.hidden("step"))
    assert len(tokens) == 3


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
    assert locations.count(URL) == 1 and locations.count("/w/volunteer?stale=1") == 7
    session = read()
    assert count(session, WorkflowTransition, WorkflowTransition.source == "availability") == 1
    [instance] = instances(session)
    assert instance.state == "summary"


def test_eight_concurrent_first_steps_start_one_instance(live_server, read):
    browser = _browser(live_server)
    responses = _race(live_server, browser.cookies, _page_payload(browser, live_server, IDENTITY))
    assert sorted(r.status_code for r in responses) == [303] * 8
    assert sorted(r.headers["Location"] for r in responses).count(URL) == 1
    session = read()
    assert count(session, WorkflowInstance) == 1
    assert count(session, WorkflowTransition) == 1
