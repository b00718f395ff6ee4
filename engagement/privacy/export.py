"""Access and portability (GDPR art. 15 and 20): everything held about one member, as JSON and CSV.

``collect`` reads it all in the caller's session and returns plain JSON values (dates in ISO 8601);
``collect_address`` does the same for an address without an account (a visitor registered for an event,
a friend invited, a form left half-way), found as its erasure finds it (engagement.privacy.erasure);
``zip_bytes`` packs it as the member downloads it. Never a password nor its hash; never another
person's data beyond what the member gave themselves (their invitations' friends, as typed).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engagement.accounts.models import OrganizerScope, RoleChange, ScopeChange, User
from engagement.accounts.passwords import HASH_PREFIX
from engagement.accounts.service import normalize_email
from engagement.committees.models import Committee, CommitteeMembership
from engagement.donations import mine
from engagement.donations.models import Donation, DonationPayment, Receipt
from engagement.events.models import Event, EventRegistration
from engagement.invitations.models import Invitation
from engagement.mail.models import MailMessage
from engagement.media.models import Media
from engagement.privacy import access, consents, erasure, traces
from engagement.privacy.models import ConsentRecord
from engagement.spreadsheets import BOM, neutralised
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowInstance, WorkflowTransition

# The CSV files and their columns (the lists of ``collect``); nested values are JSON in one cell.
FILES = {
    "consents": ("at", "kind", "given", "version", "method", "locale", "text", "document", "document_title",
                 "document_body", "instance"),
    "instances": ("id", "workflow", "version", "state", "started_at", "updated_at", "completed_at", "abandoned_at",
                  "scrubbed_at", "answers", "drafts", "transitions"),
    "registrations": ("event", "event_begins_at", "status", "registered_at", "updated_at", "waitlisted_at",
                      "promoted_at", "cancelled_at", "first_name", "last_name", "email", "postal_code"),
    "committees": ("name", "role", "since", "status"),
    "invitations": ("sent_at", "friend_first_name", "friend_email", "friend_email_erased", "subject", "joined",
                    "joined_at"),
    "invitations_received": ("received_at", "first_name_given", "subject", "joined_at"),
    "mails": ("created_at", "sent_at", "subject", "status", "role"),
    "access": ("at", "by_role", "by_name", "action", "target"),
    "roles": ("at", "change", "from", "to", "by"),
    "media": ("uploaded_at", "original_name", "alt", "content_type"),
    "donations": ("created_at", "kind", "monthly", "amount_cents", "status", "first_name", "last_name", "email",
                  "street", "postal_code", "city_name", "country", "attestation", "payments"),
}
README = """Vos données personnelles
========================

Ce dossier contient tout ce que la plateforme conserve à votre sujet, à la date indiquée dans
data.json (« generated_at »). Il répond à votre droit d’accès et à la portabilité de vos données
(articles 15 et 20 du RGPD).

- data.json : l’ensemble, lisible par un programme (UTF-8, dates au format ISO 8601, en UTC).
- account.csv : votre compte et votre profil.
- consents.csv : chaque consentement donné ou retiré, avec le texte affiché, sa version, l’heure et le
  texte de la page liée tel qu’il était alors (les conditions d’adhésion, par exemple).
- instances.csv : vos réponses aux formulaires et l’historique de chaque étape.
- registrations.csv : vos inscriptions aux événements.
- committees.csv : les comités que vous suivez, animez ou avez proposés.
- invitations.csv : les invitations que vous avez envoyées, avec les adresses de vos proches telles
  que vous les avez saisies (effacées après le délai de conservation).
- invitations_received.csv : les invitations reçues à votre adresse.
- mails.csv : les messages envoyés à votre adresse, en copie ou en réponse (date, objet, statut,
  rôle : « to » destinataire, « cc » en copie, « reply_to » adresse de réponse ; sans leur contenu).
- access.csv : les membres de l’équipe qui ont consulté ou exporté vos données (qui, quand, quoi).
- roles.csv : les changements de votre rôle et de vos périmètres.
- media.csv : les images que vous avez téléversées.

Votre mot de passe n’y figure jamais, même chiffré. Pour corriger ou effacer vos données,
rendez-vous sur la page « Mon compte » ou écrivez au délégué à la protection des données.
"""


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _name(user: User | None) -> str:
    return f"{user.first_name} {user.last_name}".strip() if user is not None else ""


@dataclass(frozen=True)
class _Person:
    """Whom an export is about: an address, its account if any, and what its erasure would find as theirs."""

    address: traces.Address
    user: User | None
    sent: list[Invitation]  # the invitations they sent (from their account, or anonymously from the address)
    received: list[Invitation]  # those sent to the address
    instances: set[int]  # the ids of their workflow instances (their account's, and anonymous ones naming them)

    @classmethod
    def of(cls, session: Session, email: str, user: User | None) -> _Person:
        address, user_id = traces.Address(normalize_email(email)), user.id if user is not None else None
        sent, received = erasure.invitations(session, address, user_id)
        return cls(address, user, sent, received, erasure.their_instances(session, address, user_id, sent, received))


def collect(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """Everything held about ``user``, JSON-serialisable, as of ``now``: with what their address left elsewhere."""
    return _collect(session, _Person.of(session, user.email, user), now)


def collect_address(session: Session, email: str, now: datetime) -> dict[str, Any] | None:
    """What ``email``, an address with no account, left (``collect``'s lists, ``account`` None); None when
    nothing at all is held about it. Raises ValueError when ``email`` is not an address."""
    data = _collect(session, _Person.of(session, email, None), now)
    return data if any(data[name] for name in FILES) else None


def _collect(session: Session, person: _Person, now: datetime) -> dict[str, Any]:
    user = person.user
    data = {
        "generated_at": _iso(now), "account": _account(session, user) if user is not None else None,
        "consents": _consents(session, person), "instances": _instances(session, person),
        "registrations": _registrations(session, person), "committees": [], "invitations": _invitations(person),
        "invitations_received": _received(session, person), "mails": _mails(session, person),
        "access": [], "roles": [], "media": [], "donations": _donations(session, person),
    }
    if user is not None:
        data.update(committees=_committees(session, user), access=_access(session, user),
                    roles=_roles(session, user), media=_media(session, user))
    return data


def _account(session: Session, user: User) -> dict[str, Any]:
    scopes = session.scalars(select(OrganizerScope.scope).where(OrganizerScope.user_id == user.id)).all()
    return {"email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "birth_date": _iso(user.birth_date), "address": user.address, "department": user.department,
            "role": user.role, "sees_personal_data": user.can_see_personal_data, "scopes": list(scopes),
            "interests": list(user.interests or []), "newsletter": user.has_newsletter, "is_active": user.is_active,
            "created_at": _iso(user.created_at), "activated_at": _iso(user.activated_at),
            "last_seen_at": _iso(user.last_seen_at)}


def _consents(session: Session, person: _Person) -> list[dict[str, Any]]:
    theirs = [*([ConsentRecord.user_id == person.user.id] if person.user is not None else []),
              *([ConsentRecord.instance_id.in_(sorted(person.instances))] if person.instances else [])]
    if not theirs:
        return []
    rows = list(session.scalars(select(ConsentRecord).where(or_(*theirs)).order_by(ConsentRecord.at,
                                                                                  ConsentRecord.id)))
    kept = consents.texts(session, (r.version for r in rows))  # the page each version linked, as it read then
    return [{"at": _iso(r.at), "kind": r.kind, "given": r.given, "version": r.version, "method": r.method,
             "locale": r.locale, "text": r.text, "document": r.document,
             "document_title": kept[r.version].document_title if r.version in kept else None,
             "document_body": kept[r.version].document_body if r.version in kept else None,
             "instance": r.instance_id} for r in rows]


class _Answers:
    """Answers without passwords: the fields a version's file types ``password`` (each version read once),
    any field named so, any value that is a password hash."""

    def __init__(self, session: Session) -> None:
        self.session, self.secrets = session, dict[tuple[str, int], set[str]]()

    def _secret(self, workflow_id: str, version: int) -> set[str]:
        key = (workflow_id, version)
        if key not in self.secrets:
            try:
                spec = definitions.of_version(self.session, workflow_id, version).spec
                self.secrets[key] = {name for name, field in spec.fields.items() if field.type == "password"}
            except definitions.DefinitionError:
                self.secrets[key] = set()
        return self.secrets[key]

    def __call__(self, values: Any, workflow_id: str, version: int) -> dict[str, Any] | None:
        if not isinstance(values, dict):
            return None
        secret = self._secret(workflow_id, version)
        return {name: value for name, value in values.items()
                if name not in secret and "password" not in name.lower()
                and not (isinstance(value, str) and value.startswith(HASH_PREFIX))}


def _instances(session: Session, person: _Person) -> list[dict[str, Any]]:
    theirs = select(WorkflowInstance).where(WorkflowInstance.id.in_(sorted(person.instances)))
    found = list(session.scalars(theirs.order_by(WorkflowInstance.started_at, WorkflowInstance.id)))
    log: dict[int, list[WorkflowTransition]] = {i.id: [] for i in found}
    for step in session.scalars(select(WorkflowTransition).where(WorkflowTransition.instance_id.in_(list(log)))
                                .order_by(WorkflowTransition.id)) if log else ():
        log[step.instance_id].append(step)
    clean = _Answers(session)
    return [{
        "id": i.id, "workflow": i.workflow_id, "version": i.version, "state": i.state,
        "started_at": _iso(i.started_at), "updated_at": _iso(i.updated_at), "completed_at": _iso(i.completed_at),
        "abandoned_at": _iso(i.abandoned_at), "scrubbed_at": _iso(i.scrubbed_at),
        "answers": clean(i.data, i.workflow_id, i.version),
        "drafts": {state: clean(typed, i.workflow_id, i.version) for state, typed in (i.drafts or {}).items()},
        "transitions": [{"at": _iso(t.at), "from": t.source, "to": t.dest, "trigger": t.trigger,
                         "answers": clean(t.changes, t.workflow_id, t.version)} for t in log[i.id]],
    } for i in found]


def _donations(session: Session, person: _Person) -> list[dict[str, Any]]:
    """Their donations (from their account, or given under their address), each with its payments."""
    user_id = person.user.id if person.user is not None else None
    donations = session.scalars(select(Donation).where(mine.theirs(user_id, person.address.email))
                                .order_by(Donation.created_at, Donation.id)).all()
    paid: dict[int, list[dict[str, Any]]] = {}
    if donations:
        rows = session.execute(select(DonationPayment, Receipt)
                               .outerjoin(Receipt, Receipt.id == DonationPayment.receipt_id)
                               .where(DonationPayment.donation_id.in_([d.id for d in donations]))
                               .order_by(DonationPayment.received_at, DonationPayment.id))
        for payment, receipt in rows:
            paid.setdefault(payment.donation_id, []).append({
                "received_at": _iso(payment.received_at), "amount_cents": payment.amount_cents,
                "refunded_cents": payment.refunded_cents, "receipt": receipt.label if receipt is not None else None})
    return [{"created_at": _iso(d.created_at), "kind": d.kind, "monthly": d.monthly, "amount_cents": d.amount_cents,
             "status": d.status, "first_name": d.first_name, "last_name": d.last_name, "email": d.email,
             "street": d.street, "postal_code": d.postal_code, "city_name": d.city_name, "country": d.country,
             "attestation": d.attestation, "payments": paid.get(d.id, [])} for d in donations]


def _registered(person: _Person) -> Any:
    """Their event registrations: made with the address, or from their account."""
    return or_(EventRegistration.email == person.address.email,
               *([EventRegistration.user_id == person.user.id] if person.user is not None else []))


def _registrations(session: Session, person: _Person) -> list[dict[str, Any]]:
    rows = session.execute(select(EventRegistration, Event).join(Event, Event.id == EventRegistration.event_id)
                           .where(_registered(person)).order_by(EventRegistration.created_at, EventRegistration.id))
    return [{"event": e.name, "event_begins_at": _iso(e.begins_at), "status": r.status,
             "registered_at": _iso(r.created_at), "updated_at": _iso(r.updated_at),
             "waitlisted_at": _iso(r.waitlisted_at), "promoted_at": _iso(r.promoted_at),
             "cancelled_at": _iso(r.cancelled_at), "first_name": r.first_name, "last_name": r.last_name,
             "email": r.email, "postal_code": r.postal_code} for r, e in rows]


def _committees(session: Session, user: User) -> list[dict[str, Any]]:
    followed = session.execute(select(Committee, CommitteeMembership).join(
        CommitteeMembership, CommitteeMembership.committee_id == Committee.id,
    ).where(CommitteeMembership.user_id == user.id).order_by(CommitteeMembership.created_at))
    proposed = session.scalars(select(Committee).where(Committee.created_by_id == user.id).order_by(Committee.id))
    return ([{"name": c.name, "role": m.role, "since": _iso(m.created_at), "status": c.status} for c, m in followed]
            + [{"name": c.name, "role": "proposer", "since": _iso(c.created_at), "status": c.status}
               for c in proposed])


def _invitations(person: _Person) -> list[dict[str, Any]]:
    rows = sorted(person.sent, key=lambda i: (i.created_at, i.id))
    return [{"sent_at": _iso(i.created_at), "subject": i.subject,
             "friend_first_name": None if i.friend_hashed_at else i.friend_first_name,
             "friend_email": None if i.friend_hashed_at else i.friend_email,
             "friend_email_erased": _iso(i.friend_hashed_at), "joined": i.joined_at is not None,
             "joined_at": _iso(i.joined_at)} for i in rows]


def _received(session: Session, person: _Person) -> list[dict[str, Any]]:
    """The invitations friends sent to this address (or that brought the member in)."""
    found = set(person.received)
    if person.user is not None:
        found.update(session.scalars(select(Invitation).where(Invitation.joined_user_id == person.user.id)))
    rows = sorted(found, key=lambda i: (i.created_at, i.id))
    return [{"received_at": _iso(i.created_at), "first_name_given": i.friend_first_name, "subject": i.subject,
             "joined_at": _iso(i.joined_at)} for i in rows]


def _mails(session: Session, person: _Person) -> list[dict[str, Any]]:
    """The mails to, copied to or answered to the address, found as its erasure finds them (traces.messages)."""
    address = person.address
    keys = [*([person.user.id] if person.user is not None else []),
            *session.scalars(select(EventRegistration.id).where(_registered(person)))]
    rows = sorted(traces.messages(session, address, keys), key=lambda m: (m.created_at, m.id))
    return [{"created_at": _iso(m.created_at), "sent_at": _iso(m.sent_at), "subject": m.subject, "status": m.status,
             "role": _role(m, address)} for m in rows]


def _role(message: MailMessage, address: traces.Address) -> str:
    """How the address was on the message: its recipient, in copy (an invitation's sender) or to answer to."""
    if any(address.is_(a) for a in message.to):
        return "to"
    return "cc" if any(address.is_(a) for a in message.cc) else "reply_to"


def _access(session: Session, user: User) -> list[dict[str, Any]]:
    return [{"at": _iso(a.at), "by_role": a.actor_role, "by_name": _name(actor), "action": a.action,
             "target": a.target} for a, actor in access.naming(session, user.id)]


def _by(session: Session, actor_id: int | None, people: dict[int, User | None]) -> str:
    if actor_id is None:
        return access.OPERATOR
    if actor_id not in people:
        people[actor_id] = session.get(User, actor_id)
    actor = people[actor_id]
    return f"{actor.role}: {_name(actor)}".rstrip(": ") if actor is not None else "?"


def _roles(session: Session, user: User) -> list[dict[str, Any]]:
    people: dict[int, User | None] = {}
    roles = session.scalars(select(RoleChange).where(RoleChange.user_id == user.id).order_by(RoleChange.at))
    scopes = session.scalars(select(ScopeChange).where(ScopeChange.user_id == user.id).order_by(ScopeChange.at))
    changes = [{"at": _iso(r.at), "change": "role", "from": _grant(r.from_role, r.from_personal_data),
                "to": _grant(r.to_role, r.to_personal_data), "by": _by(session, r.actor_id, people)} for r in roles]
    changes += [{"at": _iso(s.at), "change": f"scope {s.action}", "from": None, "to": s.scope,
                 "by": _by(session, s.actor_id, people)} for s in scopes]
    return sorted(changes, key=lambda c: str(c["at"]))


def _grant(role: str, personal_data: bool) -> str:
    return f"{role} (personal data)" if personal_data else role


def _media(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.scalars(select(Media).where(Media.uploaded_by_id == user.id).order_by(Media.id))
    return [{"uploaded_at": _iso(m.created_at), "original_name": m.original_name, "alt": m.alt,
             "content_type": m.content_type} for m in rows]


# -- the archive ---------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralised(str(value))


def _csv(columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = tuple(columns)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return (BOM + out.getvalue()).encode("utf-8")


def zip_bytes(data: dict[str, Any]) -> bytes:
    """The download: README.txt (French), data.json (all of it) and one CSV per list (account.csv too)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.encode("utf-8"))
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
        account = data.get("account") or {}
        archive.writestr("account.csv", _csv(account, [account]))
        for name, columns in FILES.items():
            archive.writestr(f"{name}.csv", _csv(columns, data.get(name) or []))
    return buffer.getvalue()
