"""The Mailjet fake behaves like the Send API v3.1, proven through the real ``mailjet_rest`` client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mailjet_rest import Client
from mailjet_rest.errors import (
    ApiError,
    ApiRateLimitError,
    CriticalApiError,
    MailjetApiError,
    MailjetAuthError,
    ValidationError,
)
from mailjet_rest.errors import TimeoutError as MailjetTimeoutError

from tests.fakes.mailjet import FakeMailjet

# A loopback call answers in milliseconds, but a loaded CI machine (two cores, a parallel suite) has
# stalled one of 200 calls past 5 s: the tests below prove behaviour, not latency, so they wait longer.
LOOPBACK_TIMEOUT = 30


def message(n: int | str = 0, **overrides: Any) -> dict[str, Any]:
    base = {
        "From": {"Email": "noreply@example.org", "Name": "Engagement"},
        "To": [{"Email": f"volunteer{n}@example.org", "Name": f"Volunteer {n}"}],
        "Subject": "Bienvenue",
        "TextPart": "Bonjour",
        "CustomID": f"mail-{n}",
    }
    base.update(overrides)
    return base


def body_of(error: MailjetApiError) -> dict[str, Any]:
    return json.loads(error.response_body)


@pytest.fixture
def fake() -> Iterator[FakeMailjet]:
    with FakeMailjet() as running:
        running.timeout_seconds = 1
        yield running


@pytest.fixture
def client(fake: FakeMailjet) -> Iterator[Client]:
    with Client(auth=(fake.api_key, fake.api_secret), version="v3.1", api_url=fake.url) as send_client:
        yield send_client


@pytest.fixture
def rest(fake: FakeMailjet) -> Iterator[Client]:
    with Client(auth=(fake.api_key, fake.api_secret), version="v3", api_url=fake.url) as rest_client:
        yield rest_client


def send(client: Client, *messages: dict[str, Any], **payload: Any) -> requests.Response:
    return client.send.create(data={"Messages": list(messages), **payload}, timeout=LOOPBACK_TIMEOUT)


def lookup(rest: Client, custom_id: str) -> dict[str, Any]:
    return rest.message.get(filters={"CustomID": custom_id}, timeout=LOOPBACK_TIMEOUT).json()


def test_success_shape(fake: FakeMailjet, client: Client) -> None:
    cc = message(1, Cc=[{"Email": "copy@example.org"}])
    response = send(client, message(0), cc, message(2))

    assert response.status_code == 200
    results = response.json()["Messages"]
    assert [r["Status"] for r in results] == ["success"] * 3
    assert [r["CustomID"] for r in results] == ["mail-0", "mail-1", "mail-2"]
    first = results[0]
    assert first["Cc"] == [] and first["Bcc"] == []
    (to,) = first["To"]
    assert to["Email"] == "volunteer0@example.org"
    assert len(to["MessageUUID"]) == 36
    assert to["MessageHref"] == f"https://api.mailjet.com/v3/REST/message/{to['MessageID']}"
    assert results[1]["Cc"][0]["Email"] == "copy@example.org"
    ids = [r["To"][0]["MessageID"] for r in results]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert ids[0] > 2**32  # real Mailjet MessageIDs do not fit in 32 bits

    assert fake.calls == 1
    assert fake.custom_ids() == ["mail-0", "mail-1", "mail-2"]
    assert fake.recipients() == ["volunteer0@example.org", "volunteer1@example.org", "copy@example.org",
                                 "volunteer2@example.org"]
    assert fake.messages[0]["Subject"] == "Bienvenue"
    assert fake.messages[0]["MessageID"] == ids[0]
    assert fake.messages[1]["MessageIDs"] == [ids[1], results[1]["Cc"][0]["MessageID"]]


def test_a_message_without_custom_id_answers_an_empty_one(fake: FakeMailjet, client: Client) -> None:
    bare = message(0)
    del bare["CustomID"]
    result = send(client, bare).json()["Messages"][0]
    assert result["Status"] == "success" and result["CustomID"] == ""
    assert fake.custom_ids() == [""]


def test_more_than_50_messages_is_refused_whole(fake: FakeMailjet, client: Client) -> None:
    with pytest.raises(ValidationError) as refused:
        send(client, *(message(n) for n in range(51)))

    assert refused.value.status_code == 400
    body = body_of(refused.value)
    assert body["StatusCode"] == 400 and body["ErrorIdentifier"]
    assert "Messages" in body["ErrorMessage"] and "up to 50" in body["ErrorMessage"]
    assert fake.messages == [] and fake.calls == 1

    assert send(client, *(message(n) for n in range(50))).status_code == 200
    assert len(fake.messages) == 50


def test_invalid_messages_are_reported_one_by_one(fake: FakeMailjet, client: Client) -> None:
    no_content = message(3)
    del no_content["TextPart"]
    with pytest.raises(ValidationError) as refused:
        send(client, message(0, To=[{"Email": "not-an-address"}]), message(1), message(2, Subject=""), no_content,
             message(4, From={"Name": "nobody"}))

    results = body_of(refused.value)["Messages"]
    assert [r["Status"] for r in results] == ["error", "success", "error", "error", "error"]
    assert [r["CustomID"] for r in results] == ["mail-0", "mail-1", "mail-2", "mail-3", "mail-4"]
    bad_address = results[0]["Errors"][0]
    assert bad_address["ErrorCode"] == "mj-0013"
    assert bad_address["StatusCode"] == 400
    assert bad_address["ErrorRelatedTo"] == ["To[0].Email"]
    assert bad_address["ErrorIdentifier"] and bad_address["ErrorMessage"]
    assert results[2]["Errors"][0]["ErrorRelatedTo"] == ["Subject"]
    assert results[3]["Errors"][0]["ErrorRelatedTo"] == ["TextPart", "HTMLPart"]
    assert results[4]["Errors"][0]["ErrorRelatedTo"] == ["From.Email"]
    # The valid message of a 400 batch is still accepted.
    assert fake.custom_ids() == ["mail-1"]


def test_a_refused_recipient_gets_the_error_shape(fake: FakeMailjet, client: Client) -> None:
    fake.refuse.add("Volunteer1@Example.org")
    with pytest.raises(ValidationError) as refused:
        send(client, message(0), message(1))

    results = body_of(refused.value)["Messages"]
    assert results[0]["Status"] == "success"
    assert results[1]["Status"] == "error"
    (error,) = results[1]["Errors"]
    assert error["StatusCode"] == 400 and error["ErrorRelatedTo"] == ["To[0].Email"]
    assert "blocked" in error["ErrorMessage"]
    assert fake.custom_ids() == ["mail-0"]


def test_partial_refuses_the_first_message_only(fake: FakeMailjet, client: Client) -> None:
    fake.fail_next("partial")
    with pytest.raises(ValidationError) as refused:
        send(client, message(0), message(1), message(2))

    assert refused.value.status_code == 400
    results = body_of(refused.value)["Messages"]
    assert [r["Status"] for r in results] == ["error", "success", "success"]
    assert results[0]["Errors"][0]["StatusCode"] == 400
    assert results[0]["Errors"][0]["ErrorRelatedTo"] == ["To[0].Email"]
    assert fake.custom_ids() == ["mail-1", "mail-2"]

    assert send(client, message(3)).status_code == 200  # the fault was consumed


def test_429_records_nothing_and_asks_to_retry_later(fake: FakeMailjet, client: Client) -> None:
    fake.fail_next("429")
    with pytest.raises(ApiRateLimitError) as limited:
        send(client, message(0))

    assert limited.value.status_code == 429
    assert body_of(limited.value) == {"ErrorMessage": "Too many requests", "StatusCode": 429}
    assert limited.value.__cause__.response.headers["Retry-After"] == "1"
    assert fake.messages == [] and fake.calls == 1


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_server_errors_record_nothing(fake: FakeMailjet, client: Client, status: str) -> None:
    fake.fail_next(status)
    with pytest.raises(ApiError) as failed:
        send(client, message(0))

    assert failed.value.__cause__.response.status_code == int(status)
    assert fake.messages == []


def test_faults_are_consumed_in_order(fake: FakeMailjet, client: Client) -> None:
    fake.fail_next("503", times=2)
    fake.fail_next("429")
    outcomes = []
    for n in range(4):
        try:
            outcomes.append(send(client, message(n)).status_code)
        except ApiError as error:
            outcomes.append(error.__cause__.response.status_code)

    assert outcomes == [503, 503, 429, 200]
    assert fake.calls == 4
    assert fake.custom_ids() == ["mail-3"]
    with pytest.raises(ValueError, match="unknown fault"):
        fake.fail_next("418")


def test_timeout_after_records_although_the_client_gave_up(fake: FakeMailjet, client: Client, rest: Client) -> None:
    fake.fail_next("timeout_after")
    started = time.perf_counter()
    with pytest.raises(MailjetTimeoutError):
        client.send.create(data={"Messages": [message(0), message(1)]}, timeout=0.5)
    assert time.perf_counter() - started < fake.timeout_seconds

    assert fake.custom_ids() == ["mail-0", "mail-1"]
    found = lookup(rest, "mail-0")  # how a ledger reconciles
    assert found["Count"] == 1 and found["Data"][0]["Status"] == "sent"
    assert found["Data"][0]["ID"] == fake.messages[0]["MessageID"]


def test_timeout_before_records_nothing(fake: FakeMailjet, client: Client, rest: Client) -> None:
    fake.fail_next("timeout_before")
    with pytest.raises(MailjetTimeoutError):
        client.send.create(data={"Messages": [message(0)]}, timeout=0.5)

    assert fake.messages == [] and fake.calls == 1
    assert lookup(rest, "mail-0") == {"Count": 0, "Total": 0, "Data": []}
    assert send(client, message(0)).status_code == 200


def test_timeout_before_closes_the_connection_without_answer(fake: FakeMailjet, client: Client) -> None:
    fake.timeout_seconds = 0.2
    fake.fail_next("timeout_before")
    with pytest.raises(CriticalApiError):  # the connection is dropped: requests' ConnectionError
        client.send.create(data={"Messages": [message(0)]}, timeout=5)
    assert fake.messages == []


def test_lookup_by_custom_id(fake: FakeMailjet, client: Client, rest: Client) -> None:
    send(client, message(0), message(1), message(0))

    twice = lookup(rest, "mail-0")
    assert twice["Count"] == twice["Total"] == 2
    entry = twice["Data"][0]
    assert entry["ID"] == fake.messages[0]["MessageID"]
    assert entry["CustomID"] == "mail-0" and entry["Status"] == "sent"
    assert entry["ArrivedAt"].endswith("Z")
    assert [d["ID"] for d in twice["Data"]] == [fake.messages[0]["MessageID"], fake.messages[2]["MessageID"]]
    assert lookup(rest, "unknown") == {"Count": 0, "Total": 0, "Data": []}
    assert fake.custom_ids() == ["mail-0", "mail-1", "mail-0"]

    by_id = rest.message.get(id=fake.messages[1]["MessageID"], timeout=LOOPBACK_TIMEOUT).json()
    assert by_id["Data"][0]["CustomID"] == "mail-1"


def test_sandbox_mode_answers_but_sends_nothing(fake: FakeMailjet, client: Client, rest: Client) -> None:
    result = send(client, message(0), SandboxMode=True).json()["Messages"][0]
    assert result["Status"] == "success"
    assert fake.messages == [] and len(fake.sandboxed) == 1
    assert lookup(rest, "mail-0")["Count"] == 0


def test_wrong_credentials_get_401(fake: FakeMailjet) -> None:
    with Client(auth=(fake.api_key, "wrong"), version="v3.1", api_url=fake.url) as intruder:
        with pytest.raises(MailjetAuthError) as denied:
            send(intruder, message(0))
        assert denied.value.status_code == 401
        assert body_of(denied.value)["ErrorMessage"]
    with Client(auth=("other", fake.api_secret), version="v3", api_url=fake.url) as intruder, \
            pytest.raises(MailjetAuthError):
        lookup(intruder, "mail-0")
    assert fake.messages == []


def test_latency_is_added_to_answers(fake: FakeMailjet, client: Client) -> None:
    fake.latency = 0.2
    started = time.perf_counter()
    send(client, message(0))
    assert time.perf_counter() - started >= 0.2


def test_reset_forgets_everything(fake: FakeMailjet, client: Client) -> None:
    send(client, message(0))
    fake.fail_next("503")
    fake.refuse.add("volunteer1@example.org")
    fake.reset()

    assert fake.messages == [] and fake.calls == 0 and fake.custom_ids() == []
    assert send(client, message(1)).status_code == 200


def test_throughput_of_full_batches_from_one_client(fake: FakeMailjet, client: Client) -> None:
    batches = [[message(f"{b}-{n}") for n in range(50)] for b in range(200)]
    started = time.perf_counter()
    for batch in batches:
        send(client, *batch)
    elapsed = time.perf_counter() - started

    assert fake.calls == 200
    assert len(fake.messages) == 10_000
    assert fake.custom_ids() == [m["CustomID"] for batch in batches for m in batch]
    print(f"\nFakeMailjet: 10000 messages in {elapsed:.2f} s = {10_000 / elapsed:,.0f} messages/s")


# --- the documented limits (issue #23) -----------------------------------------------------------

def test_global_errors_carry_their_code_and_record_nothing(fake: FakeMailjet, client: Client) -> None:
    with pytest.raises(ValidationError) as too_many:
        send(client, *(message(n) for n in range(51)))
    assert body_of(too_many.value)["ErrorCode"] == "mj-0008"
    with pytest.raises(ValidationError) as empty:
        send(client)
    assert body_of(empty.value)["ErrorCode"] == "mj-0007"
    assert "Messages" not in body_of(empty.value)
    assert fake.messages == [] and fake.refused == []


def test_an_oversized_payload_is_refused_whole_with_mj_0011(fake: FakeMailjet, client: Client) -> None:
    big = message(1, TextPart="x" * 15_000_000)  # one message alone makes the call too large
    with pytest.raises(ValidationError) as refused:
        send(client, message(0), big)
    body = body_of(refused.value)
    assert refused.value.status_code == 400 and body["ErrorCode"] == "mj-0011" and "Messages" not in body
    assert fake.messages == [] and fake.refused == []

    fake.max_payload = 2_000  # the limit is configurable, so that a test need not send 15 MB
    with pytest.raises(ValidationError):
        send(client, message(0), message(1, TextPart="y" * 2_000))
    assert send(client, message(0), message(1)).status_code == 200


def test_per_message_limits_refuse_that_message_only(fake: FakeMailjet, client: Client) -> None:
    many = [{"Email": f"r{n}@example.org"} for n in range(26)]
    with pytest.raises(ValidationError) as refused:
        send(client, message(0, Subject="é" * 255), message(1, Subject="s" * 256), message(2, Subject="😀" * 128),
             message(3, To=many, Cc=many), message(4, Headers={"Reply-To": "x@example.org"}),
             message(5, Headers={"X-MJ-CustomID": "other"}), message(6, Headers={f"X-N{n}": "v" for n in range(51)}),
             message(7, Headers={"List-Unsubscribe": "<https://example.org/u>"}))
    results = body_of(refused.value)["Messages"]
    assert [r["Status"] for r in results] == ["success", "error", "error", "error", "error", "error", "error",
                                              "success"]
    codes = [[e["ErrorCode"] for e in r.get("Errors", [])] for r in results]
    assert codes[1] == codes[2] == ["mj-0006"]  # 256 characters; 128 emoji are 256 UTF-16 units
    assert codes[3] == ["send-0015"] and codes[4] == codes[5] == ["send-0011"] and codes[6] == ["mj-0008"]
    assert results[4]["Errors"][0]["ErrorRelatedTo"] == ['Headers["Reply-To"]']
    assert fake.custom_ids() == ["mail-0", "mail-7"]
    assert fake.refused_ids() == ["mail-1", "mail-2", "mail-3", "mail-4", "mail-5", "mail-6"]


def test_the_413_fault_answers_html_and_records_nothing(fake: FakeMailjet, client: Client) -> None:
    fake.fail_next("413")
    with pytest.raises(ApiError) as failed:
        send(client, message(0))
    assert not isinstance(failed.value, MailjetApiError)  # mailjet_rest: a bare ApiError, as for a 5xx
    assert failed.value.__cause__.response.status_code == 413
    assert "Too Large" in failed.value.__cause__.response.text
    assert fake.messages == [] and fake.calls == 1


def test_refuse_whole_refuses_every_call_carrying_that_recipient(fake: FakeMailjet, client: Client) -> None:
    fake.refuse_whole.add("Volunteer1@example.org")
    with pytest.raises(ValidationError) as refused:
        send(client, message(0), message(1), message(2))
    assert body_of(refused.value)["ErrorCode"] == "mj-0002" and "Messages" not in body_of(refused.value)
    assert send(client, message(0), message(2)).status_code == 200
    assert fake.custom_ids() == ["mail-0", "mail-2"] and fake.refused == []
