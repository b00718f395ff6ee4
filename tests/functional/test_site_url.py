"""SITE_URL: links in mail point where the site is served (contracts.md, Site-wide).

Unset, `engagement serve --host H --port P` takes http://H:P for its process, never a request's Host header;
production refuses to start without it, in one clear line and no traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from engagement import PROJECT_ROOT
from engagement.config import ConfigError, load_settings
from tests.conftest import _free_port, serving
from tests.functional.helpers import mails
from tests.functional.test_signup import AGREEMENT, HOME, IDENTITY, TOPICS

ENGAGEMENT = Path(sys.executable).parent / "engagement"
BASE_ENV = {"ENGAGEMENT_INSTANCE_DIR": "/tmp/engagement-site-url", "SECRET_KEY": "k" * 32,
            "DATABASE_URL": "sqlite://"}


def _env(**values: str) -> dict[str, str]:
    return {**BASE_ENV, **values}


def test_unset_outside_production_the_default_is_where_make_run_serves():
    assert load_settings(_env()).site_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize("value", ["https://agir.example.org/", "http://[::1]:8080", "https://agir.example.org/base"])
def test_an_absolute_http_url_is_kept_without_its_trailing_slash(value):
    production = _env(SITE_URL=value, ENGAGEMENT_ENV="production", MAIL_SENDER="ne-pas-repondre@agir.example.org")
    assert load_settings(production).site_url == value.rstrip("/")


@pytest.mark.parametrize("value", ["agir.example.org", "/relative", "ftp://agir.example.org", "https://",
                                   "http://host:port", "https://agir.example.org/?a=1", "javascript:alert(1)"])
def test_a_url_that_is_not_absolute_http_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError, match=r"^SITE_URL must be an absolute http\(s\) URL"):
        load_settings(_env(SITE_URL=value))


def test_production_without_site_url_refuses_to_load():
    with pytest.raises(ConfigError, match=r"^SITE_URL is required when ENGAGEMENT_ENV=production"):
        load_settings(_env(ENGAGEMENT_ENV="production", SITE_URL="  "))


# -- the real command ------------------------------------------------------------------------------------

@pytest.fixture
def served(env: dict[str, str], settings) -> Iterator[str]:
    """`engagement serve --port <free port>` as a real process, without SITE_URL (nor a broker from the
    shell); yields its base URL."""
    port = _free_port()
    yield from serving([str(ENGAGEMENT), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                       port, env, log_name="serve.log", drop=("CELERY_BROKER_URL", "SITE_URL"))


def _browser() -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False  # straight to the loopback server, whatever proxy the shell names
    return browser


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert found, f"no hidden {name!r} on the page"
    return found.group(1)


def _sign_up(base: str, email: str, headers: dict[str, str]) -> None:
    """Join through /w/signup over HTTP as a browser would: each step's page, then its form posted back. The
    cookies are kept by hand: a cookie jar would file them under the forged host and never send them back."""
    browser, cookies = _browser(), dict[str, str]()

    def send(method: str, url: str, **kwargs) -> requests.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        response = browser.request(method, url, headers={**headers, "Cookie": cookie}, timeout=10, **kwargs)
        cookies.update({c.name: c.value or "" for c in response.cookies})
        browser.cookies.clear()
        return response

    for data, trigger in ((IDENTITY | {"email": email}, "next"), (HOME, "next"), (TOPICS, "next"),
                          (AGREEMENT, "next"), ({}, "join")):
        page = send("GET", f"{base}/w/signup", allow_redirects=False)
        while page.status_code == 303:
            page = send("GET", base + page.headers["Location"].split(base, 1)[-1], allow_redirects=False)
        assert page.status_code == 200
        payload = {**data, "trigger": trigger, "csrf_token": _hidden(page.text, "csrf_token"),
                   "step": _hidden(page.text, "step")}
        answer = send("POST", page.url, data=payload, allow_redirects=False)
        assert answer.status_code == 303, answer.text[answer.text.find("<main"):][:600]


def _activation_links(read, email: str) -> list[str]:
    """The activation links mailed to ``email``: the served app composes the mail just after its answer, in its
    own process, so this waits for it (up to 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        bodies = [m.text_body for m in mails(read()) if email.lower() in ",".join(m.to).lower()]
        links = re.findall(r"https?://\S+/account/activate/[\w-]+", "\n".join(bodies))
        if links or time.monotonic() > deadline:
            return links
        time.sleep(0.1)


def test_activation_links_use_the_port_the_app_was_served_on(served, read):
    _sign_up(served, "port@example.org", {})

    [link] = _activation_links(read, "port@example.org")
    assert link.startswith(f"{served}/account/activate/")
    assert _browser().get(link, allow_redirects=False, timeout=10).status_code in (200, 303)  # it reaches the app


def test_a_forged_host_header_does_not_change_the_links(served, read):
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    _sign_up(served, "forged@example.org", forged)

    [link] = _activation_links(read, "forged@example.org")
    assert link.startswith(f"{served}/account/activate/") and "evil" not in link


@pytest.mark.parametrize("command", [
    [str(ENGAGEMENT), "serve", "--port", "0"],
    [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1", "web.wsgi:app"],
    [str(ENGAGEMENT), "worker"],
], ids=["engagement serve", "gunicorn web.wsgi:app", "engagement worker"])
def test_production_without_site_url_refuses_to_start_in_one_clear_line(command, tmp_path):
    shell = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "SITE_URL")}
    env = {**shell, "ENGAGEMENT_ENV": "production", "SECRET_KEY": "s" * 48,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path)}

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)

    assert done.returncode != 0
    assert "SITE_URL is required when ENGAGEMENT_ENV=production" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
