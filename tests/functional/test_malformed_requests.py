"""Malformed requests (issue #23): a Host header Werkzeug cannot use is a plain 400 before Flask, error pages
never need a URL adapter, and a urlencoded form that is not UTF-8 is a 400 with nothing stored."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import request_started
from werkzeug.test import Client, EnvironBuilder

from engagement.events.models import Event
from engagement.workflow.models import WorkflowTransition
from tests.functional.helpers import IDENTITY, URL, count, untouched_start
from tests.functional.invitation_steps import log_in, make_user

MALFORMED_HOSTS = {
    "empty label": "a..b",
    "leading dot": ".example.org",
    "label over 63": "a" * 64 + ".example.org",
    "one label of 253": "a" * 253,
    "one label of 300": "a" * 300,
    "name over 253": ".".join(["abc"] * 64),  # 255 characters, no label over 3
    "space": "exa mple",
    "not a port": "host:notaport",
    "port 0": "example.org:0",
    "port over 65535": "example.org:99999",
    "empty": "",
    "not ASCII": "bé.example.org",
    "punycode that does not round-trip": "xn--bl-cia.example.org",
}
UNBINDABLE = ["a..b", "a" * 64 + ".example.org", "a" * 300]  # the Hosts Werkzeug's URL map refuses (BadHost)
UNBINDABLE_IDS = ["empty label", "label over 63", "one label of 300"]
WELL_FORMED_HOSTS = ["localhost", "127.0.0.1:5000", "[::1]:5000", "agir.example.org", "AGIR.Example.ORG:8443",
                     "example.org.", "xn--bl-bja.example.org", "a" * 63 + ".example.org",
                     ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])]  # 253 characters


def dispatched(app: Any) -> list[int]:
    """A one-item list counting the requests Flask dispatches from now on."""
    seen = [0]

    def count_one(_sender: Any, **_extra: Any) -> None:
        seen[0] += 1

    request_started.connect(count_one, app, weak=False)
    return seen


# --- A: the Host header ---------------------------------------------------------------------------------

def wsgi_call(wsgi_app: Any, path: str, host: str | None, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    """(status, headers, body) of one request sent straight to ``wsgi_app`` with this ``Host`` (None: no header):
    Werkzeug's test client itself fails on some (it decodes the request's URL to store cookies)."""
    environ = EnvironBuilder(path=path, method=method).get_environ()
    environ.pop("HTTP_HOST", None)
    if host is not None:
        environ["HTTP_HOST"] = host
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=status, headers=dict(headers))

    body = b"".join(wsgi_app(environ, start_response))
    return started["status"], started["headers"], body


@pytest.mark.parametrize("path", ["/healthz", "/", "/login", "/account"])
def test_a_malformed_host_is_a_plain_400_before_flask(app, path):
    seen = dispatched(app)
    for kind, host in MALFORMED_HOSTS.items():
        status, headers, body = wsgi_call(app.wsgi_app, path, host)
        assert (status, body) == ("400 Bad Request", b"Bad Request\n"), kind
        assert headers["Content-Type"].startswith("text/plain") and headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in headers
    assert seen == [0]


def test_well_formed_hosts_are_served(app):
    for host in WELL_FORMED_HOSTS:
        status, _headers, _body = wsgi_call(app.wsgi_app, "/healthz", host)
        assert status == "200 OK", host


def test_a_request_without_host_is_served_as_http_1_0_is(app):
    status, _headers, body = wsgi_call(app.wsgi_app, "/healthz", None)
    assert status == "200 OK" and b'"ok"' in body


@pytest.mark.parametrize("host", UNBINDABLE, ids=UNBINDABLE_IDS)
def test_error_pages_need_no_url_adapter_even_behind_no_shield(app, host):
    """Flask without the shield in front: the routing error (BadHost), a CSRF refusal and an unexpected error
    are plain answers, not a second failure in a template's url_for."""

    @app.before_request
    def fail_on_marked_path():
        from flask import request

        if request.path == "/boom":
            raise RuntimeError("a failure before any view")

    behind = Client(app.wsgi_app.app)  # the page cache and Flask, without the shield
    for method, path, code in [("GET", "/healthz", 400), ("GET", "/", 400), ("POST", "/login", 400),
                               ("GET", "/boom", 500)]:
        response = behind.open(path, method=method, headers={"Host": host})
        assert response.status_code == code, (method, path)
        assert response.headers["Content-Type"].startswith("text/plain"), (method, path)
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("host", [*UNBINDABLE, "exa mple", ""], ids=[*UNBINDABLE_IDS, "space", "empty"])
def test_a_malformed_host_leaves_nothing_in_the_page_cache(app, host):
    store = app.extensions["page_cache"].store
    assert app.test_client().get("/", headers={"Host": host}).status_code == 400
    assert not store.local
    response = app.test_client().get("/", headers={"Host": "localhost"})
    assert response.status_code == 200 and response.headers.get("X-Page-Cache") != "hit"


@pytest.mark.parametrize("host", UNBINDABLE, ids=UNBINDABLE_IDS)
def test_a_host_flask_cannot_bind_is_kept_by_no_cache_even_behind_no_shield(app, host):
    store = app.extensions["page_cache"].store
    assert Client(app.wsgi_app.app).get("/", headers={"Host": host}).status_code == 400
    assert not store.local


def test_a_malformed_host_on_the_live_server_is_a_400_without_traceback(live_server, env):
    address = urlsplit(live_server)
    for host in ["a..b", "a" * 253, "a" * 300, "exa mple", "host:notaport"]:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.putrequest("GET", "/healthz", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        assert (response.status, response.read()) == (400, b"Bad Request\n"), host
        connection.close()
    log = Path(env["ENGAGEMENT_INSTANCE_DIR"]) / "server.log"
    assert "Traceback" not in log.read_text()


# --- C: a urlencoded form that is not UTF-8 --------------------------------------------------------------

NOT_UTF8 = {"encoded surrogate": "ab%ED%A0%80cd", "0xff": "ab%FFcd", "cut short": "ab%C3", "overlong": "%C0%AFab"}
EVENT = {"description": "Ordre du jour.", "category": "meeting", "begins": "2099-12-05T10:00",
         "ends": "2099-12-05T12:00", "timezone": "Europe/Paris", "online_url": "https://visio.example.org/a",
         "capacity": "", "committee": "", "address-country": "FR"}


@pytest.fixture
def organizer(app: Any, client: Any) -> Any:
    make_user(app, "orga@example.org", role="organizer")
    log_in(client, "orga@example.org")
    return client


def post_raw(client: Any, url: str, fields: dict[str, str], raw: bytes) -> Any:
    """POST ``fields`` (with the page's CSRF and step tokens) and ``raw``, a urlencoded piece sent as is."""
    tokens = {name: client.hidden(name) for name in ("csrf_token", "step") if f'name="{name}"' in client.last_html}
    body = urlencode({**tokens, **fields}).encode() + b"&" + raw
    return client.client.post(url, data=body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("value", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_an_event_name_that_is_not_utf8_is_a_400_and_nothing_is_stored(organizer, read, value):
    organizer.get("/organizer/events/new")
    response = post_raw(organizer, "/organizer/events/new", EVENT, f"name={value}".encode())
    assert response.status_code == 400
    assert value not in response.get_data(as_text=True)
    assert count(read(), Event) == 0


def test_raw_bytes_that_are_not_utf8_are_a_400_too(organizer, read):
    organizer.get("/organizer/events/new")
    response = post_raw(organizer, "/organizer/events/new", EVENT, b"name=R\xe9union")
    assert response.status_code == 400
    assert "Votre session a expiré" not in response.get_data(as_text=True)  # the form was not read as empty
    assert count(read(), Event) == 0


def test_percent_escapes_of_utf8_and_a_typed_percent_sign_are_stored_as_typed(organizer, read):
    organizer.get("/organizer/events/new")
    response = post_raw(organizer, "/organizer/events/new", EVENT, b"name=R%C3%A9union+%25ED%25A0%2580+100%25")
    assert response.status_code == 303
    assert read().query(Event.name).scalar() == "Réunion %ED%A0%80 100%"


@pytest.mark.parametrize("value", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_a_workflow_step_that_is_not_utf8_is_a_400_and_the_instance_does_not_move(client, read, value):
    client.get(URL)
    fields = {**IDENTITY, "trigger": "next"}
    fields.pop("first_name")
    response = post_raw(client, URL, fields, f"first_name={value}".encode())
    assert response.status_code == 400
    assert count(read(), WorkflowTransition) == 0
    untouched_start(read())
