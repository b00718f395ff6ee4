"""Celery node names of `engagement worker`: one per worker on a host (issue #23, finding 5).

RabbitMQ grants a node's control queue (``<node>.celery.pidbox``) to one connection: a second worker
named like the first dies with ResourceLocked. Names come from the queues, and a second worker with the
same queues on the same host gets the next number.
"""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from engagement.outbox import CAMPAIGNS, LISTS, SEARCH, TRANSACTIONAL
from workers import nodes


def test_a_worker_without_queues_serves_all_four_search_included() -> None:
    assert nodes.parse_queues(None) == (TRANSACTIONAL, CAMPAIGNS, LISTS, SEARCH)
    assert nodes.parse_queues("") == nodes.parse_queues(None)


def test_queues_are_named_in_one_order_whatever_the_order_given() -> None:
    assert nodes.parse_queues(" search,lists ,search") == (LISTS, SEARCH)
    assert nodes.parse_queues("lists,search") == nodes.parse_queues("search,lists")


def test_an_unknown_queue_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"serach.*transactional, campaigns, lists, search"):
        nodes.parse_queues("transactional,serach")


@pytest.mark.parametrize(("queues", "base"), [
    ((TRANSACTIONAL, CAMPAIGNS, LISTS, SEARCH), "all"),
    ((CAMPAIGNS,), "campaigns"),
    ((LISTS, SEARCH), "lists+search"),
    ((TRANSACTIONAL, LISTS), "transactional+lists"),
])
def test_the_node_name_comes_from_the_queues(queues: tuple[str, ...], base: str) -> None:
    assert nodes.base_name(queues) == base
    assert nodes.node_name(base, "web-1.example.org") == f"{base}@web-1.example.org"
    assert nodes.node_name(base, "web-1.example.org", 3) == f"{base}-3@web-1.example.org"


@pytest.fixture(params=["abstract-socket", "lock-file"])
def claims(request: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Both ways a host-wide claim is held: Linux's abstract sockets, a locked file elsewhere."""
    if request.param == "lock-file":
        monkeypatch.setattr(nodes, "ABSTRACT_SOCKETS", False)
        monkeypatch.setattr(nodes.tempfile, "gettempdir", lambda: str(tmp_path))
    elif not nodes.ABSTRACT_SOCKETS:
        pytest.skip("abstract sockets are Linux's")


@pytest.mark.usefixtures("claims")
def test_a_second_worker_with_the_same_queues_on_one_host_gets_the_next_number() -> None:
    host = "h4-test-host"
    first, first_claim = nodes.claim_node("search", host)
    second, second_claim = nodes.claim_node("search", host)
    other, other_claim = nodes.claim_node("campaigns", host)
    assert (first, second, other) == ("search@h4-test-host", "search-2@h4-test-host", "campaigns@h4-test-host")
    first_claim.release()  # the first worker stopped: its name is free again, the second keeps its own
    again, again_claim = nodes.claim_node("search", host)
    assert again == "search@h4-test-host"
    for claim in (second_claim, other_claim, again_claim):
        claim.release()


@pytest.mark.usefixtures("claims")
def test_a_name_given_explicitly_is_refused_while_a_worker_of_this_host_holds_it() -> None:
    held = nodes.claim_exact("mail@h4-test-host")
    assert held is not None
    assert nodes.claim_exact("mail@h4-test-host") is None
    held.release()
    again = nodes.claim_exact("mail@h4-test-host")
    assert again is not None
    again.release()


def _worker_args(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Any, list[str]]:
    """Run ``engagement worker ARGS`` up to the program it would become; returns the result and its argv."""
    from web.cli import main, serve

    started: list[str] = []
    monkeypatch.setenv("ENGAGEMENT_ENV", "test")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    monkeypatch.setattr(serve.os, "execv", lambda _program, argv: started.extend(argv))
    result = CliRunner().invoke(main, ["worker", *args])
    return result, started


def test_engagement_worker_names_its_node_from_its_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nodes.socket, "gethostname", lambda: "h4-cli-host")
    result, argv = _worker_args(monkeypatch, "--queues", "search,lists")
    assert result.exit_code == 0, result.output
    assert argv[argv.index("--hostname") + 1] == "lists+search@h4-cli-host"
    assert argv[argv.index("--queues") + 1] == "lists,search"
    result, argv = _worker_args(monkeypatch)
    assert argv[argv.index("--hostname") + 1] == "all@h4-cli-host" and "--queues" not in argv


def test_engagement_worker_takes_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nodes.socket, "gethostname", lambda: "h4-cli-host")
    result, argv = _worker_args(monkeypatch, "--name", "mail")
    assert result.exit_code == 0, result.output
    assert argv[argv.index("--hostname") + 1] == "mail@h4-cli-host"
    result, argv = _worker_args(monkeypatch, "--name", "mail@%h")
    assert argv[argv.index("--hostname") + 1] == "mail@h4-cli-host"


def test_engagement_worker_refuses_an_unknown_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    result, argv = _worker_args(monkeypatch, "--queues", "serach")
    assert result.exit_code == 2 and argv == []
    assert "serach" in result.output

