"""`engagement worker` and `engagement beat` as real processes keep HEARTBEAT_FILE fresh, and the probe's command,
`engagement health`, fails once a frozen process has stopped beating (issue #23, finding 10)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engagement import PROJECT_ROOT, heartbeat

ENGAGEMENT = Path(sys.executable).parent / "engagement"


def _health(path: Path, max_age: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ENGAGEMENT), "health", "--heartbeat", str(path), "--max-age", str(max_age)],
                          capture_output=True, text=True, timeout=60, check=False)


@contextlib.contextmanager
def running(env: dict[str, str], tmp_path: Path, *argv: str) -> Iterator[subprocess.Popen[bytes]]:
    """``argv`` as a process of its own group (frozen and killed whole), its output in tmp_path/process.log.
    Without CELERY_BROKER_URL in ``env``, the embedded broker (memory://): nothing but the process is needed."""
    log = (tmp_path / "process.log").open("wb")
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "CELERY_BROKER_URL": "", **env, "TMPDIR": str(tmp_path)})
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


def assert_beats_until_frozen(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    """The process beats; frozen (SIGSTOP: it lives, its loop does not turn), the probe fails within seconds."""
    deadline = time.monotonic() + 60
    while not heartbeat.verdict(path, max_age=30)[0]:
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail(f"no heartbeat at {path}; the process said:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    alive = _health(path, max_age=60)
    assert alive.returncode == 0, alive.stdout + alive.stderr
    os.killpg(process.pid, signal.SIGSTOP)
    time.sleep(3)
    frozen = _health(path, max_age=2)
    assert frozen.returncode == 1, frozen.stdout + frozen.stderr
    assert "old" in frozen.stdout + frozen.stderr


@pytest.mark.parametrize("command", [["worker", "--queues", "transactional"], ["beat"]], ids=["worker", "beat"])
def test_a_running_process_beats_and_a_frozen_one_fails_the_probe(
        env: dict[str, str], settings: object, tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "heartbeat"
    with running({**env, "HEARTBEAT_FILE": str(path)}, tmp_path, str(ENGAGEMENT), *command) as process:
        assert_beats_until_frozen(path, process, tmp_path / "process.log")
