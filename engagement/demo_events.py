"""Demonstration committees and events (idempotent: what exists by slug is left alone)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.events import service
from engagement.events.models import Event
from engagement.events.service import EventInput
from engagement.geo.communes import department_of

PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}
LYON = {"street": "3 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}
HOST = "hote.demo@demo.invalid"
COMMITTEES = (
    ("comite-paris-centre", "Comité Paris Centre", "Le comité des 1er à 4e arrondissements de Paris.", PARIS),
    ("comite-lyon-presqu-ile", "Comité Lyon Presqu'île", "Militants et sympathisants de la Presqu'île.", LYON),
)


def _at(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    local = (now.astimezone(ZoneInfo("Europe/Paris")) + timedelta(days=days)).replace(
        hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(ZoneInfo("UTC"))


def load(session: Session, now: datetime) -> list[str]:
    host = session.scalar(select(User).where(User.email == HOST))
    if host is None:
        host = User(email=HOST, first_name="Hôte", last_name="Démo", created_at=now, activated_at=now)
        session.add(host)
        session.flush()
    lines = []
    committees = {}
    for slug, name, description, address in COMMITTEES:
        committee = session.scalar(select(Committee).where(Committee.slug == slug))
        if committee is None:
            committee = Committee(slug=slug, name=name, description=description, address=address,
                                  postal_code=address["postal_code"], department=department_of(address),
                                  status="approved", created_by_id=host.id, created_at=now, decided_at=now)
            session.add(committee)
            session.flush()
            session.add(CommitteeMembership(committee_id=committee.id, user_id=host.id, role="host", created_at=now))
            lines.append(f"committee {slug}: created")
        committees[slug] = committee
    events = (
        EventInput("Réunion publique : l'école de demain", "Échanges avec des enseignants et des parents.",
                   _at(now, 7, 19), _at(now, 7, 21), address=PARIS, capacity=80, category="meeting",
                   committee_id=committees["comite-paris-centre"].id),
        EventInput("Porte-à-porte sur les pentes de la Croix-Rousse", "Rendez-vous place des Terreaux.",
                   _at(now, 3, 10), _at(now, 3, 12, 30), address=LYON, capacity=3, category="canvassing",
                   committee_id=committees["comite-lyon-presqu-ile"].id),
        EventInput("Formation en ligne : animer un comité", "Une heure pour prendre en main les outils.",
                   _at(now, 10, 18), _at(now, 10, 19), online_url="https://visio.example.org/formation",
                   capacity=None, category="online"),
    )
    for data in events:
        if session.scalar(select(Event.id).where(Event.name == data.name)) is None:
            event = service.create(session, data, host.id, now)
            lines.append(f"event {event.slug}: created")
    return lines or ["committees and events: unchanged"]
