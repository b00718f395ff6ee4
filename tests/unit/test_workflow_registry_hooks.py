"""The engine knows no domain: what its figures and alerts need of one comes through REGISTRY (issue #25)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagement.db import transaction
from engagement.invitations.models import INVITED_BY, referral_counts
from engagement.workflow import rollup, sla
from engagement.workflow.analytics import Filters, analyse
from engagement.workflow.registry import NO_REFERRALS, REGISTRY, Referrals
from tests.analytics_data import NOW, build


def test_the_invitations_register_what_marks_a_referral():
    assert REGISTRY.referrals == Referrals(INVITED_BY, referral_counts)


def test_without_a_referring_domain_every_instance_is_direct(factory, monkeypatch):
    monkeypatch.setattr(REGISTRY, "referrals", NO_REFERRALS)
    build(factory)
    rollup.refresh(factory, NOW, full=True)
    with factory() as session:
        analysis = analyse(session, "survey", Filters(), now=NOW)
        invited = analyse(session, "survey", Filters(source="invitation"), now=NOW)
    assert analysis is not None and invited is not None
    assert analysis.by_source == {"invitation": 0, "direct": 10}  # 5 and 6 followed a join link: not known here
    assert analysis.invitations == {"sent": 0, "joined": 0}
    assert invited.stats.started == 0


def test_alerts_go_to_whom_the_accounts_register(factory, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(REGISTRY, "alert_recipients", lambda _session: ["veille@example.org"])
    monkeypatch.setattr(sla.mail, "compose", lambda _session, to, **_kw: sent.extend(to))
    monkeypatch.setattr(sla, "unreported", lambda _session, _now: [sla.StuckEntry(
        1, "survey", 1, "intro", datetime(2026, 11, 1, tzinfo=UTC), 3600)])
    with transaction(factory) as session:
        monkeypatch.setattr(session, "add", lambda _row: None)
        assert sla.alert(session, datetime(2026, 12, 1, tzinfo=UTC)) == 1
    assert sent == ["veille@example.org"]


@pytest.mark.parametrize(("key", "sql"), [("", "workflow_instances.id IS NULL"), (INVITED_BY, "IS NOT NULL")])
def test_referred_is_a_condition_whatever_is_registered(key, sql, monkeypatch):
    monkeypatch.setattr(REGISTRY, "referrals", Referrals(key, NO_REFERRALS.counts))
    assert sql in str(rollup.referred(rollup.WorkflowInstance))
