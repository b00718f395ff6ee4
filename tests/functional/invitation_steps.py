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
    return client.post(URL, {**data, "trigger": "send"})
