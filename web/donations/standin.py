"""A developer's stand-in for Stripe (web/dev/payments.py), served by the app itself at ``/dev/payments``.

Where no Stripe key is given outside production, donations still work end to end: the gateway speaks Stripe's API
through the real library to the stand-in in this process (no socket: the app never calls itself over HTTP while
serving a request), the hosted page lets a developer pay, decline or abandon, and the stand-in's signed webhooks
are handed to the same `Payments.receive` a real webhook reaches. Its state is a SQLite file in the instance
folder, shared by the server's worker processes. Every donation page says that no real payment is taken.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask

from engagement.core import Core, beneficiary
from engagement.db import utcnow
from engagement.donations.payments import Payments
from engagement.donations.service import NotYet

log = logging.getLogger(__name__)
PREFIX = "/dev/payments"


def install(app: Flask, core: Core) -> None:
    """Give ``core`` the stand-in provider and mount its pages; only outside production, without Stripe keys."""
    settings = core.settings
    if settings.is_production or core.payments is not None or settings.donations is None:
        return
    from engagement.payments.stripe_gateway import Gateway
    from web.dev.payments import DevStripe, InProcessClient

    state = ":memory:"  # without an instance folder: one process's own (a developer's single worker)
    if settings.instance_dir:
        Path(settings.instance_dir).mkdir(parents=True, exist_ok=True)  # the database may live elsewhere (MariaDB)
        state = str(Path(settings.instance_dir) / "dev-payments.sqlite3")

    def deliver(body: bytes, signature: str) -> bool:
        payments = core.payments
        if payments is None:
            return False
        try:
            payments.receive(core.sessions, body, signature, utcnow())
        except NotYet:
            return False  # delivered again later, as Stripe does
        return True

    fake = DevStripe(state_path=state, public_url=settings.site_url.rstrip("/") + PREFIX, deliver=deliver)
    gateway = Gateway(fake.api_key, fake.webhook_secret, api_base="http://stand-in.invalid",
                      http_client=InProcessClient(fake))
    core.payments = Payments(gateway, beneficiary(settings), settings.site_url, live=False)
    app.extensions["dev_stripe"] = fake
    inner = app.wsgi_app

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX + "/pay/"):  # the hosted page only: its API is reached in process
            script = environ.get("SCRIPT_NAME", "") + PREFIX
            environ = {**environ, "PATH_INFO": path[len(PREFIX):], "SCRIPT_NAME": script}
            return fake(environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = dispatch  # type: ignore[method-assign]
