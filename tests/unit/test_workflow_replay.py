"""Replaying a transition log from the initial state (engagement.workflow.replay)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from engagement.pseudonyms import pseudonym
from engagement.workflow.replay import Mismatch, replay


@dataclass
class Row:
    id: int
    source: str
    dest: str
    trigger: str


def log(*hops: tuple[str, str, str]) -> list[Row]:
    return [Row(i, source, dest, trigger) for i, (source, dest, trigger) in enumerate(hops, start=101)]


WALK = log(("identity", "availability", "next"), ("availability", "routing", "next"),
           ("routing", "summary", "route"), ("summary", "availability", "back"))


def test_a_consistent_log_reaches_the_stored_state():
    result = replay("identity", WALK, "availability")
    assert result.is_consistent and (result.reached, result.steps) == ("availability", 4)


def test_an_empty_log_stays_in_the_initial_state():
    assert replay("identity", [], "identity").is_consistent
    assert replay("identity", [], "summary").mismatch == Mismatch(0, None, "summary", "identity", "stored")


def test_the_first_row_leaving_another_state_is_reported_and_later_rows_still_apply():
    rows = log(("identity", "availability", "next"), ("routing", "summary", "route"),
               ("summary", "guardian", "next"))
    result = replay("identity", rows, "guardian")
    assert result.mismatch == Mismatch(2, 102, "availability", "routing", "source")
    assert result.reached == "guardian"


def test_a_restart_must_return_to_the_initial_state():
    good = log(("identity", "availability", "next"), ("availability", "identity", "restart"))
    assert replay("identity", good, "identity").is_consistent
    bad = log(("identity", "availability", "next"), ("availability", "summary", "restart"))
    assert replay("identity", bad, "summary").mismatch == Mismatch(2, 102, "identity", "summary", "restart")


def test_a_stored_state_the_log_does_not_reach_is_reported():
    assert replay("identity", WALK, "done").mismatch == Mismatch(0, None, "done", "availability", "stored")


def test_pseudonyms_are_stable_keyed_and_reveal_no_id():
    first = pseudonym(42, "key-one")
    assert first == pseudonym(42, "key-one") and first.startswith("member-") and len(first) == len("member-") + 10
    assert first != pseudonym(42, "key-two") and first != pseudonym(43, "key-one")
    assert first == "member-" + hmac.new(b"key-one", b"42", hashlib.sha256).hexdigest()[:10]
