"""Deciding on a proposed committee: once, and its hosts hear of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.committees import service
from engagement.committees.models import Committee
from engagement.mail.models import MailMessage

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
LYON = {"street": "3 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}


def proposal(session: Session) -> Committee:
    host = User(email="hote@example.org", first_name="Lou", last_name="Martin", created_at=NOW)
    session.add(host)
    session.flush()
    return service.propose(session, name="Comité Presqu'île", description="", address=LYON, creator_id=host.id,
                           now=NOW)


@pytest.mark.parametrize(("approve", "template"), [(True, "committee_approved"), (False, "committee_refused")])
def test_the_hosts_are_told_of_the_decision_once(session: Session, approve: bool, template: str):
    committee = proposal(session)
    assert committee.department == "69" and committee.status == "pending"
    service.decide(session, committee, approve, NOW)
    with pytest.raises(service.CommitteeError):
        service.decide(session, committee, not approve, NOW)
    session.flush()
    mails = session.scalars(select(MailMessage)).all()
    assert [(m.template, m.to) for m in mails] == [(template, ["hote@example.org"])]
    assert "Comité Presqu'île" in mails[0].subject
