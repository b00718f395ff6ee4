"""A heartbeat file: a long-running loop touches it, a probe judges the loop by the file's age.

Celery workers beat from their consumer's own loop and beat after each of its ticks (workers/heartbeat.py);
Kubernetes runs ``engagement health --heartbeat FILE --max-age N`` as their probes. A file older than N seconds
means the loop stopped turning while the process may well live on, which neither the process table nor a
ping through the broker (which fails when only the broker is down) tells.
"""

from __future__ import annotations

import time
from pathlib import Path

#: Seconds between two beats. A probe's max age should be several of them, so that one slow turn is forgiven.
INTERVAL = 10.0


def beat(path: Path) -> None:
    """Mark the loop as alive now: the file's modification time is the beat (created with its folder if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def clear(path: Path) -> None:
    """Forget a beat of an earlier process (a container restarted in the same pod keeps its emptyDir)."""
    path.unlink(missing_ok=True)


def age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last beat, or None when there was none."""
    try:
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - modified)


def verdict(path: Path, max_age: float, now: float | None = None) -> tuple[bool, str]:
    """(whether the last beat is at most ``max_age`` seconds old, one line saying so)."""
    seconds = age(path, now)
    if seconds is None:
        return False, f"no heartbeat at {path} (the process has not beaten yet, or writes elsewhere)"
    if seconds > max_age:
        return False, f"heartbeat {seconds:.0f} s old at {path}, more than {max_age:g} s: the loop is stuck"
    return True, f"heartbeat {seconds:.0f} s old at {path}"
