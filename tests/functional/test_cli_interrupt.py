"""Ctrl-C or SIGTERM during a command: it stops, says what is left and how it leaves, and strands nothing.

A campaign sent from the command line and interrupted a second later printed "Aborted!", then a traceback
("cannot schedule new futures after interpreter shutdown"), exited 1 and left the campaign `sending` with
rows only `engagement outbox relay` would ever deliver (issue #23). The command runs here as an operator runs
it, in its own process and session, and gets a real signal while its campaign is being expanded and sent.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from engagement import PROJECT_ROOT
from engagement.db import transaction, utcnow
from engagement.outbox import InProcessRelay, OutboxMessage
from tests.functional.test_cli_delivery import engagement
from web.cli import main

MEMBERS = 20_000  # ten pages to expand and forty slices to send: seconds of work when the signal comes
LEFT = re.compile(r"^Interrupted: (\d+) queued task\(s\) left pending .*`engagement outbox relay` delivers them now",
                  re.MULTILINE)


def _many_members(factory: sessionmaker[Session], count: int) -> None:
    from engagement.accounts.models import User

    now = utcnow()
    with transaction(factory) as session:
        session.execute(insert(User), [{"email": f"membre{n}@example.org", "activated_at": now, "created_at": now,
                                        "has_newsletter": True, "interests": []} for n in range(count)])


def _pending(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(OutboxMessage.delivered_at.is_(None))) or 0)


def _interrupted_send(env: dict[str, str], body: Path, signum: int) -> subprocess.CompletedProcess[str]:
    """`engagement campaign send`, sent ``signum`` once it has printed the campaign (its work under way)."""
    inherited = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "campaign", "send", "--audience", "all",
                                "--subject", "Samedi", "--body-file", str(body)],
                               env={**inherited, **env}, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    os.kill(process.pid, signum)
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err += "\n(still running 120 s after the signal: killed)"
    return subprocess.CompletedProcess(process.args, process.returncode, first + out, err)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_campaign_send_says_what_is_left_and_strands_nothing(
        env: dict[str, str], settings: Any, factory: sessionmaker[Session], tmp_path: Path, signum: int) -> None:
    from engagement.campaigns.models import Campaign
    from engagement.mail.models import MailMessage

    _many_members(factory, MEMBERS)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\nRéunion samedi.\n", encoding="utf-8")
    result = _interrupted_send(env, body, signum)
    print(result.stderr)
    assert result.returncode == 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM, as a shell expects
    assert "Traceback" not in result.stderr and "Aborted!" not in result.stderr
    said = LEFT.search(result.stderr)
    assert said is not None, result.stderr
    left = _pending(factory)
    assert left > 0 and int(said.group(1)) == left  # exactly what is pending, said in one line
    relayed = engagement(env, "outbox", "relay")
    assert relayed.returncode == 0, relayed.stderr
    with factory() as session:
        assert session.scalars(select(Campaign.status)).all() == ["done"]
        per_member = session.execute(select(MailMessage.to, func.count()).group_by(MailMessage.to)).all()
        statuses = dict(session.execute(select(MailMessage.status, func.count()).group_by(MailMessage.status)).all())
    assert len(per_member) == MEMBERS and {count for _to, count in per_member} == {1}  # each once, none lost
    assert statuses == {"sent": MEMBERS}
    assert _pending(factory) == 0


def test_an_interrupted_command_that_queued_nothing_says_so_and_gives_the_signals_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engagement.workflow import checker

    def checking(_files: Any) -> Any:  # Ctrl-C while the command works
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        raise AssertionError("not interrupted")

    monkeypatch.setattr(checker, "check_files", checking)
    before = signal.getsignal(signal.SIGINT)
    try:
        result = CliRunner().invoke(main, ["workflows", "check"])
    finally:
        InProcessRelay.resume()  # the process goes on: new delivery threads
    assert result.exit_code == 130
    assert result.output == "Interrupted: nothing this command queued is left pending.\n"
    assert signal.getsignal(signal.SIGINT) is before  # the trap is the command's only
