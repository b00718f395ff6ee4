"""Ctrl-C and SIGTERM during an ``engagement`` command: no traceback, nothing stranded (issue #23).

A command interrupted a second into a campaign printed "Aborted!", then a traceback (its background work, cut
off by the interpreter's exit, could not queue what it queued in turn), exited 1 and left rows pending that
nothing would deliver. Now the first signal stops this process's background delivery (``InProcessRelay.stop``:
nothing new starts, a campaign's expansion stops after its page) and unwinds the command as Ctrl-C does
(``Interrupted``, a KeyboardInterrupt: an open transaction rolls back); the command's close callback then says
in one line what is left pending and how it will leave (web/command_relay.py ``after_interrupt``), and the
command exits 128 + the signal's number (130, 143), as a shell expects. A second signal stops at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
AT_ONCE = ("Stopped at once: what this command queued and did not deliver stays pending; "
           "`engagement outbox relay` delivers it.\n")


class Interrupted(KeyboardInterrupt):
    """The command got ``signum``: unwinding it (code that catches Exception does not catch this)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Trap:
    """This process's handlers of SIGINT and SIGTERM while a command runs (installed from the main thread only)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        self.signum = None
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or 0)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:  # a second signal: no more waiting for the task in progress
            os.write(sys.stderr.fileno(), AT_ONCE.encode())
            os._exit(128 + signum)
        self.signum = signum
        relays = sys.modules.get("engagement.outbox")  # not imported: this command queued nothing
        if relays is not None:
            relays.InProcessRelay.stop()
        raise Interrupted(signum)


TRAP = Trap()
