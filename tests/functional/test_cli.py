"""The `engagement` command, run in process with the environment of an isolated deployment."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from engagement import PROJECT_ROOT
from engagement.config import Settings
from engagement.workflow.models import WorkflowDefinition
from tests.functional.helpers import AVAILABILITY, IDENTITY, URL, advance, confirm, count

BAD = PROJECT_ROOT / "tests" / "fixtures" / "workflows" / "bad"
DIAGNOSTIC = re.compile(r"^(?P<path>[^:]+\.ya?ml):(?P<line>\d+):(?P<column>\d+): error: .+$")




def load_volunteer(cli: Any) -> None:
    result = cli("workflows", "load", str(PROJECT_ROOT / "workflows" / "volunteer.yml"))
    assert result.exit_code == 0, result.output


def test_workflows_check_accepts_the_shipped_workflows(cli):
    result = cli("workflows", "check", str(PROJECT_ROOT / "workflows"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "0 error(s)" in result.stderr


def test_workflows_check_rejects_every_bad_file_with_located_diagnostics(cli):
    result = cli("workflows", "check", str(BAD))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(DIAGNOSTIC.match(line) for line in lines), lines
    flagged = {Path(DIAGNOSTIC.match(line)["path"]).name for line in lines}
    assert flagged == {path.name for path in BAD.glob("*.yml")}


def test_workflows_check_rejects_one_bad_file_among_good_ones(cli):
    result = cli("workflows", "check", str(PROJECT_ROOT / "workflows" / "volunteer.yml"), str(BAD / "dead_end.yml"))
    assert result.exit_code == 1
    assert all("dead_end.yml" in line for line in result.stdout.splitlines())


def test_workflows_load_then_list_as_json(cli):
    load_volunteer(cli)
    result = cli("workflows", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["id"], r["version"], r["active"], r["file"]) for r in rows] == [("volunteer", 4, True, "volunteer.yml")]
    assert len(rows[0]["checksum"]) == 64


def test_workflows_load_refuses_a_bad_file_and_publishes_nothing(cli, read):
    result = cli("workflows", "load", str(BAD / "unknown_dest.yml"))
    assert result.exit_code == 1
    assert DIAGNOSTIC.match(result.stdout.splitlines()[0])
    assert count(read(), WorkflowDefinition) == 0


def test_workflows_show_as_json(cli):
    load_volunteer(cli)
    result = cli("workflows", "show", "volunteer", "--format", "json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert (shown["id"], shown["initial"]) == ("volunteer", "identity")
    assert shown["states"]["routing"]["automatic"] is True and shown["states"]["done"]["final"] is True
    assert {"trigger": "route", "source": ["routing"], "dest": "guardian", "conditions": ["data.age < 18"],
            "unless": []} in shown["transitions"]


def test_workflows_show_as_mermaid(cli):
    load_volunteer(cli)
    result = cli("workflows", "show", "volunteer", "--format", "mermaid")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "stateDiagram-v2" and "    [*] --> identity" in lines
    assert "    routing --> guardian : route [if]" in lines and "    done --> [*]" in lines


def test_workflows_show_unknown_workflow_fails_clearly(cli):
    result = cli("workflows", "show", "nothing_here")
    assert result.exit_code != 0
    assert "no active workflow 'nothing_here'" in result.stderr


def test_stats_count_instances_per_state(cli, client):
    client.get(URL)
    for answers in (IDENTITY, AVAILABILITY):
        advance(client, answers)
    confirm(client)
    # The closing page offers no restart (a confirmation page leads on): the token comes from another page.
    assert client.post(f"{URL}/restart", page="/login").status_code == 303
    client.get(URL)
    advance(client, {**IDENTITY, "email": "dominique@example.org"})
    result = cli("stats", "volunteer", "--json")
    assert result.exit_code == 0
    figures = json.loads(result.stdout)
    assert (figures["started"], figures["completed"], figures["in_progress"]) == (2, 1, 1)
    assert figures["by_state"] == {"availability": 1}
    assert figures["completion_rate"] == 0.5


def test_stats_of_an_unused_workflow_are_zero(cli):
    figures = json.loads(cli("stats", "volunteer", "--json").stdout)
    assert (figures["started"], figures["completed"], figures["by_state"]) == (0, 0, {})


def test_mail_list_shows_the_welcome_mail(cli, client):
    client.get(URL)
    for answers in (IDENTITY, AVAILABILITY):
        advance(client, answers)
    confirm(client)
    result = cli("mail", "list", "--json")
    assert result.exit_code == 0
    [message] = json.loads(result.stdout)
    assert (message["to"], message["status"]) == (["camille@example.org"], "sent")
    assert "Camille" in message["subject"]


def test_users_create_then_duplicate_is_refused(cli):
    created = cli("users", "create", "x@example.org", "--role", "organizer", "--password-stdin",
                  stdin="a long enough password\n")
    assert created.exit_code == 0, created.output
    assert "created with role organizer" in created.stderr
    again = cli("users", "create", "X@example.org", "--role", "organizer", "--password-stdin",
                stdin="another long password\n")
    assert again.exit_code != 0
    assert "an account with this email already exists" in again.stderr


def test_users_create_refuses_a_short_password(cli):
    result = cli("users", "create", "y@example.org", "--password-stdin", stdin="short\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.stderr


def test_demo_load_is_idempotent(cli, read):
    first = cli("demo", "load")
    assert first.exit_code == 0
    assert "workflow volunteer v4: published" in first.stderr
    definitions = count(read(), WorkflowDefinition)
    second = cli("demo", "load")
    assert second.exit_code == 0
    assert "workflow volunteer v4: unchanged" in second.stderr and "published" not in second.stderr
    assert count(read(), WorkflowDefinition) == definitions >= 1


def test_db_upgrade_migrates_a_fresh_sqlite_database(cli, tmp_path, monkeypatch):
    fresh = tmp_path / "fresh.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}")
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{fresh}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"alembic_version", "workflow_instances", "workflow_transitions", "mail_messages", "users"} <= tables
    assert cli("db", "current").stdout.strip() != "(empty)"
    assert cli("demo", "load").exit_code == 0


def test_bad_configuration_is_a_clear_error(cli, monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "pigeon")
    result = cli("workflows", "list")
    assert result.exit_code != 0
    assert "MAIL_BACKEND must be one of" in result.stderr


def _lyon_members(settings: Settings, count: int) -> None:
    from engagement.accounts.models import User
    from engagement.db import make_engine, make_session_factory, transaction, utcnow

    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        session.add_all([User(email=f"lyon{n}@example.org", activated_at=utcnow(), address={
            "street": "1 place Bellecour", "postal_code": "69002", "city": "69382", "city_name": "Lyon 2e",
            "country": "FR"}) for n in range(count)])
    engine.dispose()


def test_campaign_send_waits_for_every_message_and_prints_the_contract_json(cli, settings, tmp_path):
    _lyon_members(settings, 7)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour,\nRéunion samedi place Bellecour.\n", encoding="utf-8")
    result = cli("campaign", "send", "--audience", "department:69", "--subject", "Samedi", "--body-file", str(body),
                 "--wait")
    assert result.exit_code == 0, result.output
    queued = json.loads(result.stdout)
    assert set(queued) == {"campaign", "recipients"} and queued["recipients"] == 7
    assert "7 sent" in result.stderr
    shown = json.loads(cli("campaign", "show", str(queued["campaign"])).stdout)
    assert (shown["status"], shown["statuses"]["sent"], shown["finished"]) == ("done", 7, True)
    listed = json.loads(cli("mail", "list", "--json", "--limit", "20").stdout)
    assert sorted(row["to"][0] for row in listed) == sorted(f"lyon{n}@example.org" for n in range(7))
    assert all(row["subject"] == "Samedi" and row["status"] == "sent" for row in listed)


@pytest.mark.parametrize("audience", ["department:20", "committee:nowhere", "event:none", "everyone"])
def test_campaign_send_refuses_an_audience_that_names_nothing(cli, tmp_path, audience):
    body = tmp_path / "body.txt"
    body.write_text("Bonjour.", encoding="utf-8")
    result = cli("campaign", "send", "--audience", audience, "--subject", "S", "--body-file", str(body))
    assert result.exit_code == 1
    assert result.stdout == "" and "audience:" in result.stderr


def test_campaign_send_wait_gives_up_after_its_timeout(cli, settings, tmp_path, monkeypatch):
    from engagement.campaigns import service

    real = service.progress
    # As with a broker and no worker: the campaign never ends.
    monkeypatch.setattr(service, "progress", lambda *a, **k: {**real(*a, **k), "finished": False})
    _lyon_members(settings, 2)
    body = tmp_path / "body.txt"
    body.write_text("Bonjour.", encoding="utf-8")
    result = cli("campaign", "send", "--audience", "department:69", "--subject", "S", "--body-file", str(body),
                 "--wait", "--timeout", "0.2")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["recipients"] == 2  # the campaign was queued all the same
    assert "after 0.2 s; it goes on in the background" in result.stderr
