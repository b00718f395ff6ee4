"""The wizard's navigation contract (contracts.md, version 2) without JavaScript, on a flow of its own.

A URL per step, earlier steps shown with their answers and changed, steps not reached refused, the
progress of the walk, the review page and its change links, ``validate: false``, restart's confirmation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from tests.functional.helpers import input_value, instances, selected_option, state_of, text, transitions

URL = "/w/trip"
ADULT = {"email": "Lea@Example.org", "phone": "06 12 34 56 78", "age": "34"}
MINOR = {**ADULT, "age": "16"}


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    env["ENGAGEMENT_WORKFLOWS_DIR"] = str(PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "navigation")
    return env


def progress(page: str) -> tuple[int, int, str]:
    found = re.search(r'<p class="progress" data-step="(\d+)" data-steps="(\d+)">([^<]*)</p>', page)
    assert found, "no progress on the page"
    return int(found[1]), int(found[2]), found[3]


def post(client: Any, state: str, data: dict[str, Any], trigger: str = "next") -> Any:
    """Submit the page shown (its own URL, as its form's action says) with ``trigger``."""
    assert f'action="{URL}/{state}"' in client.last_html
    return client.post(f"{URL}/{state}", {**data, "trigger": trigger})


def walk_to(client: Any, steps: list[tuple[Any, ...]]) -> str:
    """Post each (state, answers[, trigger]) from the page the wizard shows; the last page reached."""
    client.get(URL)
    for state, data, *trigger in steps:
        response = post(client, state, data, *trigger)
        assert response.status_code == 303, text(client.last_html)[:1500]
        client.get(response.headers["Location"])
    return client.last_html


def change_links(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<a data-change="([^"]+)" href="([^"]+)"', page)


def test_each_step_has_its_own_url(client):
    response = client.get(URL, follow=False)
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/contact"
    client.get(URL)
    assert state_of(client.last_html) == "contact"
    response = post(client, "contact", ADULT)
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/preferences"  # routed past
    assert client.get(URL, follow=False).headers["Location"] == f"{URL}/preferences"


def test_an_email_field_renders_its_max_length_and_placeholder(client):
    client.get(URL)
    [control] = re.findall(r'<input\b[^>]*\bname="email"[^>]*>', client.last_html)
    assert 'maxlength="80"' in control and 'placeholder="nom@exemple.fr"' in control


def test_a_step_not_reached_yet_answers_303_to_the_current_step(client, read):
    client.get(URL)
    for state in ("preferences", "check", "done", "guardian", "no_such_state"):
        response = client.get(f"{URL}/{state}", follow=False)
        assert response.status_code == 303 and response.headers["Location"] == f"{URL}/contact", state
    client.get(URL)  # a page with the form's token
    response = client.post(f"{URL}/check", {"trigger": "confirm", "agree": "y"})
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/contact"
    [instance] = instances(read(), "trip")
    assert instance.state == "contact" and not instance.data


def test_an_earlier_step_shows_its_answers_at_its_url_and_the_current_one_is_kept(client, read):
    walk_to(client, [("contact", ADULT)])
    page = client.get(f"{URL}/contact")
    assert page.status_code == 200 and state_of(client.last_html) == "contact"
    assert input_value(client.last_html, "email") == "Lea@example.org"  # the domain normalized, not the name
    assert input_value(client.last_html, "age") == "34"
    assert progress(client.last_html)[0] == 1
    [instance] = instances(read(), "trip")
    assert instance.state == "preferences"  # looking back moves nothing


def test_changing_an_earlier_answer_runs_the_flow_again_from_there(client, read):
    walk_to(client, [("contact", ADULT)])
    client.get(f"{URL}/contact")
    response = post(client, "contact", MINOR)
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/guardian"
    [instance] = instances(read(), "trip")
    assert instance.state == "guardian" and instance.data["age"] == 16 and instance.history == ["contact"]


def test_an_invalid_change_of_an_earlier_step_keeps_everything(client, read):
    walk_to(client, [("contact", ADULT)])
    client.get(f"{URL}/contact")
    response = post(client, "contact", {**ADULT, "age": "7"})
    assert response.status_code == 422 and state_of(client.last_html) == "contact"
    [instance] = instances(read(), "trip")
    assert instance.state == "preferences" and instance.data["age"] == 34


def test_progress_counts_the_fewest_pages_left_and_follows_the_answers(client):
    client.get(URL)
    number, steps, words = progress(client.last_html)
    assert (number, steps) == (1, 3) and words == "Étape 1 sur 3"  # the age is unknown: the shortest way
    page = walk_to(client, [("contact", MINOR)])
    assert state_of(page) == "guardian" and progress(page)[:2] == (2, 4)  # a minor: one page more
    client.get(f"{URL}/contact")  # the first page again, changed: an adult goes straight to the preferences
    client.get(post(client, "contact", ADULT).headers["Location"])
    page = client.last_html
    assert state_of(page) == "preferences" and progress(page)[:2] == (2, 3)


def test_the_review_lists_every_answer_by_step_with_a_change_link(client):
    page = walk_to(client, [("contact", MINOR), ("guardian", {"guardian_name": "Marc Petit"}),
                            ("preferences", {"region": "bre", "note": "Plutôt le week-end"})])
    assert state_of(page) == "check" and progress(page)[:2] == (4, 4)
    assert change_links(page) == [("contact", f"{URL}/contact"), ("guardian", f"{URL}/guardian"),
                                  ("preferences", f"{URL}/preferences")]
    shown = text(page)
    for expected in ("Lea@example.org", "+33612345678", "16", "Marc Petit", "Bretagne", "Plutôt le week-end"):
        assert expected in shown, expected


def test_a_change_from_the_review_returns_to_it(client, read):
    walk_to(client, [("contact", ADULT), ("preferences", {"region": "bre"})])
    client.get(f"{URL}/contact")
    response = post(client, "contact", {**ADULT, "email": "autre@example.org"})
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/check"
    client.get(f"{URL}/check")
    assert "autre@example.org" in text(client.last_html)
    [instance] = instances(read(), "trip")
    assert instance.history == ["contact", "preferences"]


def test_a_change_that_shows_a_new_question_on_a_later_page_stops_there_even_if_optional(client, read):
    walk_to(client, [("contact", ADULT), ("preferences", {"region": "bre"})])
    client.get(f"{URL}/contact")
    response = post(client, "contact", {**ADULT, "age": "70"})
    assert response.headers["Location"] == f"{URL}/preferences"  # "Votre rythme" is asked now
    client.get(f"{URL}/preferences")
    assert "Votre rythme" in text(client.last_html)
    assert selected_option(client.last_html, "region") == "bre"


def test_a_change_that_takes_another_branch_stops_on_the_new_question(client, read):
    walk_to(client, [("contact", ADULT), ("preferences", {"region": "bre"})])
    client.get(f"{URL}/contact")
    response = post(client, "contact", MINOR)
    assert response.headers["Location"] == f"{URL}/guardian"
    client.get(f"{URL}/guardian")
    response = post(client, "guardian", {"guardian_name": "Marc Petit"})
    assert response.headers["Location"] == f"{URL}/preferences"  # on the new branch, the walk goes on from there
    client.get(f"{URL}/preferences")
    assert selected_option(client.last_html, "region") == "bre"  # the later answers are still there to confirm


def test_a_transition_that_does_not_validate_keeps_what_was_typed_as_a_draft(client, read):
    walk_to(client, [("contact", ADULT)])
    response = post(client, "preferences", {"note": "abc"}, trigger="previous")  # too short, and no region
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/contact"
    session = read()
    [instance] = instances(session, "trip")
    assert instance.state == "contact" and instance.history == []
    assert "note" not in instance.data and "region" not in instance.data  # nothing invalid in the answers
    assert instance.drafts == {"preferences": {"note": ["abc"]}}
    logged = transitions(session, instance.id)[-1]
    assert (logged.source, logged.dest, logged.trigger) == ("preferences", "contact", "previous")
    client.get(f"{URL}/contact")
    post(client, "contact", ADULT)
    client.get(f"{URL}/preferences")
    assert "abc" in client.last_html and 'class="error-summary"' not in client.last_html  # shown again, no error
    response = post(client, "preferences", {"region": "idf", "note": "Le soir"})
    assert response.headers["Location"] == f"{URL}/check"
    [instance] = instances(read(), "trip")
    assert not instance.drafts and instance.data["note"] == "Le soir"


def test_restart_asks_first_and_discards_nothing_until_confirmed(client, read):
    walk_to(client, [("contact", ADULT)])
    assert f'href="{URL}/restart"' in client.last_html
    page = client.get(f"{URL}/restart")
    assert page.status_code == 200 and f'action="{URL}/restart"' in client.last_html
    assert f'href="{URL}/preferences"' in client.last_html  # "no": back to where they stand
    [instance] = instances(read(), "trip")
    assert instance.abandoned_at is None
    response = client.post(f"{URL}/restart", {})
    assert response.status_code == 303
    client.get(URL)
    assert state_of(client.last_html) == "contact" and input_value(client.last_html, "email") in (None, "")


def test_the_completed_walk_shows_only_its_final_page(client, read):
    walk_to(client, [("contact", ADULT), ("preferences", {"region": "bre"}), ("check", {"agree": "y"}, "confirm")])
    assert client.get(URL, follow=False).headers["Location"] == f"{URL}/done"
    response = client.get(f"{URL}/contact", follow=False)
    assert response.status_code == 303 and response.headers["Location"] == f"{URL}/done"
    session = read()
    [instance] = instances(session, "trip")
    assert instance.is_completed
    assert [t.trigger for t in transitions(session, instance.id) if t.source == "check"] == ["confirm"]
    assert {t.source for t in transitions(session, instance.id)} >= {"contact", "routing", "preferences", "check"}
