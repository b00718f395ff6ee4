"""Two `engagement serve` on one host, each with its own gunicorn control socket (issue #23, finding 13).

gunicorn 25.1+ opens a control socket (``gunicornc``: worker counts, reload, shutdown) at one path per user,
``$XDG_RUNTIME_DIR/gunicorn.ctl`` or ``~/.gunicorn/gunicorn.ctl``: a second instance removed the first's and
took its place, so a command meant for one reached the other. Each serve now has its own, next to its data.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engagement import PROJECT_ROOT
from tests.conftest import _free_port, _wait_until_up

LISTENING = re.compile(r"Control socket listening at (\S+)")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home of this test's own: gunicorn's default socket would land in it, not in the real one."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def two_serves(env: dict[str, str], settings: Any, home: Path) -> Iterator[list[tuple[Any, str, Path]]]:
    """Two `engagement serve` of one deployment (one instance folder) on two ports: (process, URL, log)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "SITE_URL", "XDG_RUNTIME_DIR")}
    started = []
    for n in (1, 2):
        port, log = _free_port(), Path(env["ENGAGEMENT_INSTANCE_DIR"]) / f"serve{n}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "1"],
                env={**inherited, **env, "HOME": str(home)}, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        started.append((process, f"http://127.0.0.1:{port}", log))
    yield started
    for process, _url, _log in started:
        process.terminate()
        process.wait(timeout=15)


def _control_socket(log: Path) -> str | None:
    found = LISTENING.search(log.read_text(errors="replace"))
    return found.group(1) if found else None


def _arbiter_pid(path: str) -> int:
    from gunicorn.ctl.client import ControlClient  # gunicorn 25.1+

    with ControlClient(path, timeout=10) as client:
        return int(client.send_command("show stats")["pid"])


def test_two_serves_on_one_host_each_have_their_own_control_socket(two_serves: list[tuple[Any, str, Path]],
                                                                   env: dict[str, str]) -> None:
    for process, url, log in two_serves:
        _wait_until_up(url, process, log)  # both serve
    paths = [_control_socket(log) for _process, _url, log in two_serves]
    print(f"\ncontrol sockets: {paths}")
    if paths == [None, None]:
        pytest.skip("this gunicorn opens no control socket (before 25.1): nothing to share")
    assert None not in paths and len(set(paths)) == 2, paths
    for (process, _url, _log), path in zip(two_serves, paths, strict=True):
        assert _arbiter_pid(path) == process.pid  # each socket reaches its own server (serve execs gunicorn)
        assert Path(path).parent == Path(env["ENGAGEMENT_INSTANCE_DIR"])  # with the deployment's data
