"""Demonstration committees and events (idempotent: what exists by slug is left alone), and their covers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement import clock
from engagement.accounts.models import User
from engagement.committees.models import Committee, CommitteeMembership
from engagement.events import service
from engagement.events.models import Event
from engagement.events.service import EventInput
from engagement.geo.communes import department_of
from engagement.slugs import slugify

PARIS = {"street": "12 rue de Rivoli", "postal_code": "75004", "city": "75104",
         "city_name": "Paris 4e Arrondissement", "country": "FR"}
LYON = {"street": "3 place des Terreaux", "postal_code": "69001", "city": "69381",
        "city_name": "Lyon 1er Arrondissement", "country": "FR"}
MARSEILLE = {"street": "2 quai du Port", "postal_code": "13002", "city": "13202",
             "city_name": "Marseille 2e Arrondissement", "country": "FR"}
BORDEAUX = {"street": "1 place de la Bourse", "postal_code": "33000", "city": "33063", "city_name": "Bordeaux",
            "country": "FR"}
HOST = "hote.demo@demo.invalid"
COMMITTEES = (
    ("comite-paris-centre", "Comité Paris Centre", "Le comité des 1er à 4e arrondissements de Paris.", PARIS),
    ("comite-lyon-presqu-ile", "Comité Lyon Presqu’île", "Militants et sympathisants de la Presqu’île.", LYON),
    ("comite-marseille-vieux-port", "Comité Marseille Vieux-Port", "Du Panier à la Joliette, on agit ensemble.",
     MARSEILLE),
    ("comite-bordeaux-centre", "Comité Bordeaux Centre", "Réunions le premier mardi du mois, quai des Chartrons.",
     BORDEAUX),
)
# Covers drawn here (no image files in the repository): a diagonal gradient, discs, a cloudy grain.
PALETTES = (
    ("bleu et orange", (29, 78, 216), (245, 158, 11)), ("vert et jaune", (21, 128, 61), (250, 204, 21)),
    ("violet et rose", (109, 40, 217), (244, 114, 182)), ("rouge et bleu nuit", (185, 28, 28), (30, 27, 75)),
    ("turquoise et corail", (13, 148, 136), (251, 113, 133)), ("gris et bleu ciel", (71, 85, 105), (125, 211, 252)),
    ("brun et ocre", (120, 53, 15), (217, 119, 6)),
)
COVER_SIZE = (1600, 900)


def _at(now: datetime, days: int, hour: int, minute: int = 0) -> datetime:
    local = (now.astimezone(clock.PARIS) + timedelta(days=days)).replace(
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
    events = _events(now, {slug: c.id for slug, c in committees.items()})
    for data in events:
        # By slug, not name: a name retypeset (’ for ', a no-break space) must not make a second event.
        if session.scalar(select(Event.id).where(Event.slug == slugify(data.name))) is None:
            event = service.create(session, data, host.id, now)
            lines.append(f"event {event.slug}: created")
    return lines or ["committees and events: unchanged"]


def _events(now: datetime, committees: dict[str, int]) -> tuple[EventInput, ...]:
    """The demo events (``committees``: slug -> id; missing ones leave the event without a committee)."""
    paris, lyon = committees.get("comite-paris-centre"), committees.get("comite-lyon-presqu-ile")
    marseille, bordeaux = committees.get("comite-marseille-vieux-port"), committees.get("comite-bordeaux-centre")
    return (
        EventInput("Réunion publique : l’école de demain", "Échanges avec des enseignants et des parents.",
                   _at(now, 7, 19), _at(now, 7, 21), address=PARIS, capacity=80, category="meeting",
                   committee_id=paris),
        EventInput("Porte-à-porte sur les pentes de la Croix-Rousse", "Rendez-vous place des Terreaux.",
                   _at(now, 3, 10), _at(now, 3, 12, 30), address=LYON, capacity=3, category="canvassing",
                   committee_id=lyon),
        EventInput("Formation en ligne : animer un comité", "Une heure pour prendre en main les outils.",
                   _at(now, 10, 18), _at(now, 10, 19), online_url="https://visio.example.org/formation",
                   capacity=None, category="online"),
        EventInput("Débat : quelle santé pour nos quartiers ?", "Avec des soignants de l’Hôtel-Dieu.",
                   _at(now, 5, 19), _at(now, 5, 21), address=PARIS, capacity=120, category="debate",
                   committee_id=paris),
        EventInput("Apéro militant de rentrée", "Faire connaissance avant les prochaines actions.",
                   _at(now, 12, 19), _at(now, 12, 22), address=LYON, capacity=40, category="convivial",
                   committee_id=lyon),
        EventInput("Conférence : le climat, c’est maintenant", "Trois chercheurs et une heure de questions.",
                   _at(now, 14, 18, 30), _at(now, 14, 20, 30), address=MARSEILLE, capacity=200,
                   category="conference", committee_id=marseille),
        EventInput("Tractage au marché des Capucins", "Tracts et café fournis, venez comme vous êtes.",
                   _at(now, 6, 9), _at(now, 6, 12), address=BORDEAUX, capacity=None, category="canvassing",
                   committee_id=bordeaux),
        EventInput("Formation : prendre la parole en public", "Exercices pratiques en petits groupes.",
                   _at(now, 9, 14), _at(now, 9, 17), address=MARSEILLE, capacity=15, category="training",
                   committee_id=marseille),
    )


def cover_image(number: int) -> bytes:
    """The JPEG of demo cover ``number``: always the same bytes for the same number (so uploaded once).

    Discs on a gradient under a cloudy grain at five scales: about as much detail as a photograph, so that
    the pages weigh what they will with real pictures."""
    import pyvips

    width, height = COVER_SIZE
    _name, start, end = PALETTES[number % len(PALETTES)]
    xyz = pyvips.Image.xyz(width, height)
    gradient = (xyz[0] + xyz[1]) / (width + height)
    image = (gradient * [b - a for a, b in zip(start, end, strict=True)] + list(start)).copy_memory()
    draw = random.Random(number)  # noqa: S311 - shapes of a picture, not a secret  # nosec B311
    for _ in range(3 + number % 4):
        image = image.draw_circle([draw.randrange(256) for _ in range(3)], draw.randrange(width),
                                  draw.randrange(height), draw.randrange(60, 300), fill=True)
    for octave, cell in enumerate((2, 6, 18, 54, 162)):
        grain = pyvips.Image.gaussnoise(width // cell + 2, height // cell + 2, sigma=1, mean=0,
                                        seed=number * 10 + octave)
        image += grain.resize(cell, kernel="cubic").crop(0, 0, width, height) * (3 + 2 * cell ** 0.5)
    return bytes(image.cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=90, keep="none"))


def cover_alt(number: int) -> str:
    return f"Illustration : des disques de couleur sur un dégradé {PALETTES[number % len(PALETTES)][0]}"


def load_covers(session: Session) -> list[str]:
    """A cover for each demo committee, event and page that has none: demo image ``n`` for the n-th of them
    (committees, events, pages, in the order they are declared), uploaded as any image is."""
    from engagement.media import service as media
    from engagement.pages.models import ContentPage
    from engagement.pages.service import DEMO as PAGES

    host_id = session.scalar(select(User.id).where(User.email == HOST))
    rows: list[Committee | Event | ContentPage | None] = [
        *(session.scalar(select(Committee).where(Committee.slug == c[0])) for c in COMMITTEES),
        *(session.scalar(select(Event).where(Event.name == e.name)) for e in _events(datetime.now(UTC), {})),
        *(session.scalar(select(ContentPage).where(ContentPage.slug == p[0])) for p in PAGES)]
    added = 0
    for number, row in enumerate(rows):
        if row is not None and row.cover_media_id is None:
            image = media.upload(session, cover_image(number), filename=f"couverture-{number + 1}.jpg",
                                 uploaded_by_id=host_id, alt=cover_alt(number))
            row.cover_media_id = image.id
            added += 1
    return [f"covers: {added} attached"] if added else ["covers: unchanged"]
