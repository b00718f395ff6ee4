"""Celery node names: each worker on a host has its own, so that two never share a control queue.

A Celery node answers control commands (ping, inspect) on ``<node>.celery.pidbox``, a queue RabbitMQ grants
to one connection only: a second worker named like a running one dies at start with ``ResourceLocked``.
``engagement worker`` therefore names a node from its queues (``search@host``, ``all@host`` for every queue)
and, while a worker of this host holds that name, the next one takes the next number (``search-2@host``),
like Celery's own ``%h``/``%i`` names. The first worker of a host always gets the plain name (a pod's only worker
is ``search@<pod>``).

A name is held by a claim this process keeps, and the worker it becomes (``os.execv``) inherits: on Linux an
abstract Unix socket (no file to clean up, shared by every user and every ``/tmp`` of the host's network
namespace, gone with the last process holding it), elsewhere a locked file in the temporary directory.

This module imports neither Celery's app nor the settings: the command line imports it cheaply.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import tempfile
from pathlib import Path

from engagement.outbox import ALL_QUEUES

ABSTRACT_SOCKETS = sys.platform.startswith("linux")
MAX_WORKERS_PER_HOST = 100  # a bound on the numbering, far beyond any real host
ALL = "all"  # the name of a worker that serves every queue


def parse_queues(text: str | None) -> tuple[str, ...]:
    """The queues of ``--queues a,b`` in their canonical order (every queue when empty); ValueError on a typo,
    which would otherwise start a worker consuming a queue nothing is ever sent to."""
    asked = {name.strip() for name in (text or "").split(",") if name.strip()}
    unknown = sorted(asked - set(ALL_QUEUES))
    if unknown:
        raise ValueError(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(ALL_QUEUES)}")
    return tuple(name for name in ALL_QUEUES if name in asked) or ALL_QUEUES


def base_name(queues: tuple[str, ...]) -> str:
    """``all`` for every queue, else the queues joined by ``+`` (``lists+search``)."""
    return ALL if set(queues) == set(ALL_QUEUES) else "+".join(queues)


def node_name(base: str, host: str, number: int = 1) -> str:
    """``base@host`` for the first worker of a host, ``base-N@host`` for the Nth."""
    return f"{base}@{host}" if number == 1 else f"{base}-{number}@{host}"


def this_host() -> str:
    return socket.gethostname()


class Claim:
    """A host-wide hold on one node name, released with the last process that inherited it."""

    def __init__(self, handle: socket.socket | int) -> None:
        self._handle = handle

    def keep_across_exec(self) -> None:
        """Let the program this process ``execv``s into inherit the hold (Python closes descriptors at exec)."""
        if isinstance(self._handle, socket.socket):
            self._handle.set_inheritable(True)
        else:
            os.set_inheritable(self._handle, True)

    def release(self) -> None:
        if isinstance(self._handle, socket.socket):
            self._handle.close()
        else:
            os.close(self._handle)


def claim_exact(node: str) -> Claim | None:
    """Hold ``node`` for this host, or None when a live process of this host holds it."""
    key = hashlib.sha256(node.encode()).hexdigest()[:32]  # any name fits the 107 bytes of a socket address
    if ABSTRACT_SOCKETS:
        held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            held.bind(f"\0engagement-celery-node-{key}")
        except OSError:
            held.close()
            return None
        return Claim(held)
    return _lock_file(Path(tempfile.gettempdir()) / f"engagement-celery-node-{key}.lock")


def _lock_file(path: Path) -> Claim | None:
    import fcntl  # Unix only, like Celery's prefork pool

    try:  # O_NOFOLLOW: a link planted in a shared directory is refused, not followed
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError:  # another user's file: someone else's worker, take the next number
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    return Claim(descriptor)


def claim_node(base: str, host: str) -> tuple[str, Claim]:
    """The first name of ``base`` on ``host`` no live worker of this host holds, and the hold on it."""
    for number in range(1, MAX_WORKERS_PER_HOST + 1):
        node = node_name(base, host, number)
        claim = claim_exact(node)
        if claim is not None:
            return node, claim
    raise RuntimeError(f"{MAX_WORKERS_PER_HOST} workers named {base!r} already run on this host")


def expand(name: str, host: str) -> str:
    """A ``--name``: ``mail`` is ``mail@<host>``; Celery's ``%h`` (host), ``%n`` (its first label) and ``%d``
    (its domain) are replaced."""
    from celery.utils.nodenames import host_format

    return host_format(name if "@" in name else f"{name}@%h", host=host)


def claim_for(queues: tuple[str, ...], name: str | None = None) -> tuple[str, Claim]:
    """The node name of a worker of this host serving ``queues``, or named ``name``, and the hold on it;
    ValueError when ``name`` is held by a live worker of this host (Celery would die on it)."""
    host = this_host()
    if name is None:
        return claim_node(base_name(queues), host)
    node = expand(name, host)
    claim = claim_exact(node)
    if claim is None:
        raise ValueError(f"a worker of this host is already named {node}")
    return node, claim

