"""The sla alert: stuck instances of tests/analytics_data.py mailed once to organizers and admins."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engagement.accounts.models import User
from engagement.db import transaction
from engagement.mail.models import MailMessage
from engagement.workflow import sla
from engagement.workflow.models import WorkflowInstance, WorkflowSlaAlert
from tests.analytics_data import NOW, build, d


def arrange(core):
    build(core.sessions)
    with transaction(core.sessions) as session:
        session.add_all([User(email="orga@example.org", role="organizer"), User(email="boss@example.org", role="admin"),
                         User(email="ana@example.org", role="analyst"),
                         User(email="gone@example.org", role="organizer", is_active=False)])


def mails(core):
    with core.sessions() as session:
        return list(session.scalars(select(MailMessage).order_by(MailMessage.id)))


def test_stuck_instances_are_mailed_to_organizers_and_admins_once(core):
    arrange(core)
    # 3 (details since the 10th, sla 2d) and 7 (intro since the 11th, sla 1h); 8 and 10 are within their sla.
    assert sla.alert_all(core.sessions, NOW) == 2
    sent = mails(core)
    assert sorted(address for m in sent for address in m.to) == ["boss@example.org", "orga@example.org"]
    assert sent[0].subject == "2 parcours bloqués au-delà de leur délai"
    assert "- survey / details: 1\n- survey / intro: 1" in sent[0].text_body
    assert "survey #3 (details, 2026-11-10 11:00 UTC, 241 h / sla 48 h)" in sent[0].text_body
    with core.sessions() as session:
        alerts = session.execute(select(WorkflowSlaAlert.instance_id, WorkflowSlaAlert.state,
                                        WorkflowSlaAlert.entered_at).order_by(WorkflowSlaAlert.instance_id)).all()
    assert [tuple(a) for a in alerts] == [(3, "details", d(10, 11)), (7, "intro", d(11, 11))]

    # 20 minutes later nothing is new (10 passes its hour in intro at 12:30): no second mail.
    assert sla.alert_all(core.sessions, NOW + timedelta(minutes=20)) == 0
    assert len(mails(core)) == 2


def test_a_new_state_entry_is_alerted_again(core):
    arrange(core)
    sla.alert_all(core.sessions, NOW)
    with transaction(core.sessions) as session:  # 7 went on to details on the 14th, and waits there too
        instance = session.get(WorkflowInstance, 7)
        instance.state, instance.entered_at = "details", d(14, 9)
    # 47 hours later 8 has spent its 2 days in details, 10 its hour in intro; 3 stays reported.
    later = NOW + timedelta(hours=47)
    with core.sessions() as session:
        due = [(e.instance_id, e.state) for e in sla.unreported(session, later)]
    assert due == [(7, "details"), (8, "details"), (10, "intro")]
    assert sla.alert_all(core.sessions, later) == 3
    assert len(mails(core)) == 4


def test_nothing_stuck_sends_nothing(core):
    arrange(core)
    assert sla.alert_all(core.sessions, d(10, 9)) == 0
    assert mails(core) == []
