"""``engagement mail``: the outbound mail ledger."""

from __future__ import annotations

import click

from web.cli import _core, _emit, main


@main.group()
def mail() -> None:
    """Outbound mail."""


@mail.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=20, type=int)
def mail_list(as_json: bool, limit: int) -> None:
    from engagement.mail.service import recent

    core = _core()
    with core.sessions() as session:
        rows = [{"id": m.id, "to": m.to, "cc": m.cc, "reply_to": m.reply_to, "subject": m.subject,
                 "status": m.status, "created_at": m.created_at.isoformat()} for m in recent(session, limit)]
    if as_json:
        _emit(rows)
        return
    for row in rows:
        click.echo(f"#{row['id']:<6} {row['status']:<7} {', '.join(row['to']):<32} {row['subject']}")
