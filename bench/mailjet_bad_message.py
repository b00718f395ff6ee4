"""One bad message in a batch of 50 (issue #23, finding 8): Mailjet calls made and mails delivered,
with the transport of a git revision (``--before``, default ``HEAD``: the committed code) and with
the working tree's, against the loopback fake (which enforces Mailjet's documented limits).

Each case queues 50 messages and spoils the 18th; the ledger then runs as the outbox task does:
once, and again after each RetryLater, at most 8 retries (``max_retries=8`` in workers/tasks.py).
Cases: ``whole`` (the message makes Mailjet refuse the whole call: a payload over the limit, the
fake's limit lowered to 50,000 bytes), ``address`` (an invalid address: Mailjet answers per
message), ``subject`` (300 characters).

    python bench/mailjet_bad_message.py [--before REV] [--json out.json]
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from harness import ROOT, create_tables, deployment_env, emit

sys.path.insert(0, str(ROOT))

from tests.fakes.mailjet import FakeMailjet  # the fake lives with the tests

ATTEMPTS = 1 + 8  # the first run and the task's 8 retries
SPOIL = {
    "whole": ("text_body", "x" * 60_000),
    "address": ("to", ["personne-sans-arobase"]),
    "subject": ("subject", "Une très longue histoire " * 12),
}


def transport_module(revision: str | None) -> ModuleType:
    """engagement/mail/mailjet.py as in ``revision`` (None: the working tree)."""
    if revision is None:
        from engagement.mail import mailjet

        return mailjet
    source = subprocess.run(["git", "show", f"{revision}:engagement/mail/mailjet.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "mailjet_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("mailjet_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def run(case: str, module: ModuleType) -> dict[str, Any]:
    from sqlalchemy import func, select

    from engagement.db import make_engine, make_session_factory, transaction
    from engagement.mail import service as mail
    from engagement.mail.delivery import RetryLater, deliver
    from engagement.mail.models import MailMessage

    with tempfile.TemporaryDirectory() as tmp, FakeMailjet() as fake:
        env = deployment_env(Path(tmp), Path(tmp))
        create_tables(env["DATABASE_URL"])
        engine = make_engine(env["DATABASE_URL"])
        factory = make_session_factory(engine)
        fake.max_payload = 50_000
        with transaction(factory) as session:
            rows = [mail.compose(session, to=[f"person{n}@example.org"], subject=f"Bonjour {n}", body="Un message.",
                                 context={}, locale="fr", literal=True) for n in range(50)]
            setattr(rows[17], *SPOIL[case])
            ids = [row.id for row in rows]
        transport = module.MailjetTransport(fake.api_key, fake.api_secret, fake.url, timeout=5)
        carried = spy_on(fake, f'"mail-{ids[17]}"'.encode())
        runs = 0
        for runs in range(1, ATTEMPTS + 1):  # noqa: B007 - the count is the result
            try:
                deliver(factory, transport, ids, "mailjet")
                break
            except RetryLater:
                continue
        with factory() as session:
            query = select(MailMessage.status, func.count()).group_by(MailMessage.status)
            statuses = dict(session.execute(query).all())
        engine.dispose()
        return {"calls": fake.calls, "delivered": len(fake.messages), "task_runs": runs, "statuses": statuses,
                "calls_carrying_the_bad_message": len(carried)}


def spy_on(fake: FakeMailjet, needle: bytes) -> list[int]:
    """A list that grows by one for each call to the fake whose body carries ``needle``."""
    carried: list[int] = []
    send = fake._send

    def spied(body: bytes, *, partial: bool) -> tuple[int, dict[str, Any]]:
        if needle in body:
            carried.append(1)
        return send(body, partial=partial)

    fake._send = spied  # type: ignore[method-assign]
    return carried


def main(argv: list[str]) -> dict[str, Any]:
    before = argv[argv.index("--before") + 1] if "--before" in argv else "HEAD"
    modules = {"before": transport_module(before), "after": transport_module(None)}
    result = {case: {label: run(case, module) for label, module in modules.items()} for case in SPOIL}
    for case, figures in result.items():
        for label, figure in figures.items():
            print(f"{case:8} {label:6} calls={figure['calls']:3} delivered={figure['delivered']:2} "
                  f"task runs={figure['task_runs']} statuses={figure['statuses']} "
                  f"calls carrying the bad one={figure['calls_carrying_the_bad_message']}")
    return result


if __name__ == "__main__":
    emit(main(sys.argv[1:]), sys.argv)
