"""How ``engagement serve`` runs gunicorn: its command line, with a control socket of the server's own.

gunicorn 25.1+ opens a control socket for ``gunicornc`` (worker counts, reload, shutdown) at one path per
user, ``$XDG_RUNTIME_DIR/gunicorn.ctl`` or ``~/.gunicorn/gunicorn.ctl``: a second server of the same user
removed the first's and listened in its place, so a command meant for one server reached the other
(issue #23, finding 13). Each server now has its own, named after the address it listens on, which no other
live server of the host has: in the instance folder, next to the data it serves; without one (a read-only
deployment: a container's image) in the temporary directory.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

MAX_SOCKET_PATH = 100  # bytes: a Unix socket's path must fit in 104 (macOS) or 108 (Linux), its end included


def control_socket(instance_dir: Path | None, host: str, port: int) -> Path | None:
    """The control socket of the server on ``host:port``; None when no short enough path exists."""
    name = f"gunicorn-{re.sub(r'[^A-Za-z0-9.-]', '_', host)}-{port}.ctl"
    candidates = [instance_dir / name] if instance_dir is not None else []
    candidates.append(Path(tempfile.gettempdir()) / f"engagement-{name}")  # a deep instance folder, or none
    return next((path for path in candidates if len(os.fsencode(path)) <= MAX_SOCKET_PATH), None)


def has_control_socket() -> bool:
    """Whether the installed gunicorn has a control socket (25.1 and later)."""
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket" for setting in KNOWN_SETTINGS)


def gunicorn_command(host: str, port: int, workers: int, instance_dir: Path | None) -> list[str]:
    """gunicorn's argv for ``engagement serve`` (its settings: web/gunicorn_conf.py, then GUNICORN_CMD_ARGS,
    where ``--no-control-socket`` turns the socket off)."""
    args = [sys.executable, "-m", "gunicorn", "--config", "python:web.gunicorn_conf", "--workers", str(workers),
            "--bind", f"{host}:{port}", "--access-logfile", "-", "--graceful-timeout", "10"]
    if has_control_socket():
        path = control_socket(instance_dir, host, port)
        args += ["--control-socket", str(path)] if path is not None else ["--no-control-socket"]
    return [*args, "web.wsgi:app"]
