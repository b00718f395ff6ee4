"""Consent records in the core: what a field consents to, the version of its text, the engine's capture on any
workflow, and the checker refusing a consent box ticked in advance."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from engagement.accounts.models import User
from engagement.db import transaction
from engagement.pages import legal
from engagement.pages.models import ContentPage
from engagement.privacy import consents
from engagement.privacy.models import ConsentRecord
from engagement.workflow import runtime
from engagement.workflow.checker import check_text
from engagement.workflow.machine import compile_spec
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import FieldSpec, WorkflowSpec

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
FLOW = """
id: petition
version: 1
title: Pétition
initial: sign
states:
  sign:
    title: Signez
    fields:
      - {name: first_name, type: text, label: Prénom}
      - {name: contact, type: boolean, label: J'accepte d'être recontacté%s}
      - {name: terms, type: consent, label: J'accepte les conditions d'adhésion, link: /conditions-d-adhesion}
  done: {final: true, title: Merci}
transitions:
  - {trigger: next, source: sign, dest: done}
"""


def spec_of(text: str, registry: Registry = REGISTRY) -> WorkflowSpec:
    spec, diagnostics = check_text(text, "petition.yml", registry)
    assert spec is not None, diagnostics
    return spec


def test_what_a_field_consents_to():
    spec = spec_of(FLOW % "")
    fields = spec.fields
    assert consents.kind_of(spec, fields["contact"]) == "petition.contact"  # the petition's, not the account's
    assert consents.kind_of(spec, FieldSpec("newsletter", "boolean")) == "petition.newsletter"
    assert consents.kind_of(spec, fields["terms"]) == "terms"  # the membership terms, whatever the field's name
    assert consents.kind_of(spec, fields["first_name"]) is None
    assert consents.kind_of(spec, FieldSpec("newsletter_optin", "boolean")) is None
    assert consents.kind_of(spec, FieldSpec("ok", "consent", link="/charte-des-benevoles#art-2")) == "charter"
    assert consents.kind_of(spec, FieldSpec("ok", "consent", link="/pages/statuts")) == "petition.ok"


def test_the_version_is_the_words_and_the_linked_pages_current_text(core):
    with transaction(core.sessions) as session:
        assert consents.version(session, "Oui", "/ailleurs") == hashlib.sha256(b"Oui").hexdigest()
        assert consents.version(session, "Oui", None) == hashlib.sha256(b"Oui").hexdigest()
        default = legal.defaults()[legal.VOLUNTEER_CHARTER]  # no row yet: the built-in text is what is shown
        expected = f"Oui\x00{default.title}\n\n{default.body}".encode()
        assert consents.version(session, "Oui", "/charte-des-benevoles") == hashlib.sha256(expected).hexdigest()
        session.add(ContentPage(slug="statuts", title="Statuts", body="Article 1."))
        session.flush()
        before = consents.version(session, "Oui", "/pages/statuts")
        assert before == hashlib.sha256(b"Oui\x00Statuts\n\nArticle 1.").hexdigest()
        session.scalar(select(ContentPage).where(ContentPage.slug == "statuts")).body = "Article 1, modifié."
        assert consents.version(session, "Oui", "/pages/statuts") != before


def test_any_workflow_records_its_consents_when_a_step_is_submitted(core):
    flow = compile_spec(spec_of(FLOW % ""))
    with transaction(core.sessions) as session:
        user = User(email="ana@example.org", first_name="Ana", activated_at=NOW)
        session.add(user)
        session.flush()
        instance = runtime.start(session, flow, actor=user, now=NOW, locale="fr")
        runtime.submit(session, flow, instance, trigger="next", step=instance.lock_version, actor=user, now=NOW,
                       locale="fr", answers={"first_name": "Ana", "contact": False, "terms": True})
        rows = list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.kind)))
        assert [(r.kind, r.given, r.user_id, r.instance_id, r.method, r.at.replace(tzinfo=UTC)) for r in rows] == [
            ("petition.contact", False, user.id, instance.id, "form:petition/sign", NOW),
            ("terms", True, user.id, instance.id, "form:petition/sign", NOW)]
        assert {r.kind: r.given for r in consents.current(session, user.id)} == {"petition.contact": False,
                                                                                 "terms": True}


def test_the_checker_refuses_an_opt_in_ticked_in_advance():
    registry = Registry(opt_ins={"contact"})
    spec, diagnostics = check_text(FLOW % ", default: true", "petition.yml", registry)
    assert spec is None
    assert ["a consent box is never ticked in advance" in d.message for d in diagnostics] == [True]
    assert spec_of(FLOW % ", default: false", registry) is not None
    assert "contact" in REGISTRY.opt_ins and "newsletter" in REGISTRY.opt_ins  # what the application runs with


def test_only_the_sign_up_s_newsletter_box_is_the_newsletter():
    signup = spec_of(FLOW.replace("id: petition", "id: signup") % "")
    assert consents.kind_of(signup, FieldSpec("newsletter", "boolean")) == "newsletter"  # what campaigns read
    assert consents.kind_of(spec_of(FLOW % ""), FieldSpec("newsletter", "boolean")) == "petition.newsletter"
