"""The image's commands, run as the image runs them: its user, its environment, a tree it cannot write.

No container can be built here (no daemon, no base image), so this is the closest check of "nothing
written at run time outside /tmp": the checkout and the virtualenv belong to root, and the commands
run as the image's numeric user (10001) with the runtime stage's ``ENV``, so any write outside /tmp
(a byte-code file, an instance folder, a generated secret, a log) fails them. The database is a
SQLite file in a folder of that user's under /tmp, standing for the external MariaDB.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engagement import PROJECT_ROOT
from tests.deploy.test_dockerfile import _env, _final

SETPRIV = shutil.which("setpriv")


def _image_user() -> tuple[int, int]:
    user = next(i.arguments for i in _final() if i.keyword == "USER")
    uid, _, gid = user.partition(":")
    return int(uid), int(gid)


VENV = Path(sys.executable).parent.parent
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None,
                       reason="runs the commands as the image's user with setpriv: needs root and util-linux"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def image_env() -> Iterator[dict[str, str]]:
    """The runtime stage's environment, with this checkout's virtualenv and a database of the user's own."""
    uid, gid = _image_user()
    data = Path(tempfile.mkdtemp(prefix="engagement-image-"))
    os.chown(data, uid, gid)
    env = _env(_final())
    env.update({
        "PATH": f"{VENV / 'bin'}:/usr/bin:/bin", "VIRTUAL_ENV": str(VENV),
        "DATABASE_URL": f"sqlite:///{data / 'engagement.db'}", "SECRET_KEY": "image-test-" + os.urandom(8).hex(),
        "ENGAGEMENT_WORKFLOWS_DIR": str(PROJECT_ROOT / "workflows"),
        "SITE_URL": "https://agir.example.org",  # production refuses to start without it (the chart sets it)
        "MAIL_SENDER": "Le mouvement <ne-pas-repondre@agir.example.org>",  # the same
    })
    yield env
    shutil.rmtree(data, ignore_errors=True)


def _as_image_user(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    uid, gid = _image_user()
    # CAP_DAC_READ_SEARCH (read and search only, never write): this machine's Python lives under /root,
    # which the image's user could not even reach; in the image it is /usr/local, readable by all.
    command = [str(SETPRIV), f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=+dac_read_search",
               "--ambient-caps=+dac_read_search", "--", *args]
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]


def _snapshot() -> dict[str, float]:
    """Every file of the checkout (but .git and the virtualenv) with its modification time."""
    found = {}
    for folder, dirs, files in os.walk(PROJECT_ROOT):
        dirs[:] = [d for d in dirs if d not in {".git", ".venv", "build"}]
        for name in files:
            path = os.path.join(folder, name)
            found[path] = os.stat(path).st_mtime
    return found


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_migration_then_the_web_server_run_as_the_image_user_on_a_tree_it_cannot_write(
        image_env: dict[str, str]) -> None:
    before = _snapshot()
    engagement = str(VENV / "bin" / "engagement")
    migrate = _as_image_user([engagement, "db", "upgrade"], image_env)
    output, _ = migrate.communicate(timeout=120)
    assert migrate.returncode == 0, output.decode()

    port = _free_port()
    server = _as_image_user([engagement, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            image_env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /healthz within 60 s"
            time.sleep(0.2)
        pages = {path: _get(base + path) for path in ("/readyz", "/", "/events", "/login", "/signup", "/w/volunteer")}
        assert pages == dict.fromkeys(pages, 200)
        assert server.poll() is None
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[0].decode()
    assert "Traceback" not in log and "Permission denied" not in log, log
    assert _snapshot() == before  # nothing in the checkout was created or changed
