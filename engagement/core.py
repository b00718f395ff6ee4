"""Wiring the core once per process: engine, sessions, mail, registry and the outbox relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engagement import signing
from engagement.campaigns import lists
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory
from engagement.donations.documents import Beneficiary
from engagement.donations.payments import Payments
from engagement.generations import Generations, for_settings
from engagement.generations import track as track_generations
from engagement.mail import service as mail
from engagement.media import service as media
from engagement.outbox import InProcessRelay, Relay, relay_after_commit
from engagement.privacy import notices
from engagement.search import service as search
from engagement.tables import import_models
from engagement.workflow import persistence
from engagement.workflow.registry import REGISTRY

RelayFactory = Callable[[sessionmaker[Session]], Relay]


@dataclass
class Core:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    relay: Relay
    generations: Generations  # of what public pages show: bumped after commit (engagement/generations.py)
    # Donations' provider and association (None: closed); the web app puts its stand-in provider here on a
    # developer's machine (web/dev/payments.py), where no Stripe key is given.
    payments: Payments | None = None


def register_builtins() -> None:
    """What every workflow may name whatever the configuration: mail templates, field checks."""
    from engagement.accounts import reset, signup, validators  # noqa: F401 - they register at import
    from engagement.campaigns import service as _campaigns  # noqa: F401
    from engagement.donations import actions as _donations  # noqa: F401
    from engagement.donations import mails as _donation_mails  # noqa: F401 - the receipt's outbox handler
    from engagement.events import actions  # noqa: F401
    from engagement.invitations import content, service  # noqa: F401
    from engagement.privacy import consents  # noqa: F401 - records the consents every workflow collects

    REGISTRY.mail_templates = mail.available_templates


def bootstrap(settings: Settings, relay_factory: RelayFactory = InProcessRelay) -> Core:
    """Build the core for ``settings``; side effects leave through ``relay_factory``'s relay."""
    import_models()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    mailjet = (settings.mailjet_api_key, settings.mailjet_api_secret, settings.mailjet_api_url) \
        if settings.mailjet_api_key and settings.mailjet_api_secret else None
    mail.configure(settings.mail_backend, settings.mail_sender, settings.site_url, mailjet,
                   lease=timedelta(seconds=settings.mail_claim_lease))
    signing.configure(settings.secret_key)
    notices.configure(settings)  # the periods and controller the privacy notice and mails state
    media.configure(settings)  # MEDIA_STORAGE_URL: nothing is opened until an image is stored or read
    register_builtins()
    relay = relay_factory(sessions)
    relay_after_commit(sessions, relay)
    lists.track(sessions)  # membership changes mark audience lists dirty, in their transaction
    if settings.algolia_app_id and settings.algolia_api_key:
        from engagement.search.algolia import AlgoliaIndex  # a second of imports: only when configured

        search.configure(AlgoliaIndex(settings.algolia_app_id, settings.algolia_api_key, settings.algolia_index,
                                      settings.algolia_hosts))
    else:
        search.configure(None)
    search.track(sessions)  # committees, events and pages changed are indexed after commit
    persistence.track(sessions)  # a changed instance: one versioned UPDATE, outside the unit of work
    generations = for_settings(settings)
    track_generations(sessions, generations)  # cached pages showing a changed event are renewed after commit
    return Core(settings, engine, sessions, relay, generations, payments=stripe_payments(settings))


def stripe_payments(settings: Settings) -> Payments | None:
    """Donations through Stripe, when its keys are given (docs/donations.md)."""
    donations = settings.donations
    if donations is None or not donations.stripe_secret_key or not donations.stripe_webhook_secret:
        return None
    from engagement.payments.stripe_gateway import Gateway  # the stripe library: only when configured

    gateway = Gateway(donations.stripe_secret_key, donations.stripe_webhook_secret, api_base=donations.stripe_api_url)
    return Payments(gateway, beneficiary(settings), settings.site_url, live=True)


def beneficiary(settings: Settings) -> Beneficiary:
    """The financing association tax receipts name."""
    donations = settings.donations
    if donations is None:
        raise ValueError("donations are closed: no association to name")
    return Beneficiary(donations.beneficiary_name, donations.beneficiary_address, donations.approval,
                       donations.treasurer)
