"""Which relay hands committed outbox rows on: Celery when a broker is configured, else in process.

Kept apart from ``web.app`` so that the command line gets it without importing Flask and every view.
"""

from __future__ import annotations

from typing import Any

from engagement.config import Settings


def relay_factory(settings: Settings) -> Any:
    if settings.celery_broker_url:
        from workers.dispatch import CeleryRelay  # the broker path: ids go to Celery, not tasks

        return CeleryRelay
    from engagement.outbox import InProcessRelay

    return InProcessRelay


def hold_detached_work(app: Any) -> None:
    """Embedded, a request's detached outbox rows (engagement.outbox.DETACHED) start once its answer is sent:
    when the server closes the response, after its last byte."""
    from engagement.outbox import InProcessRelay

    app.before_request(InProcessRelay.hold)

    @app.after_request
    def release_once_sent(response: Any) -> Any:
        response.call_on_close(InProcessRelay.release)
        return response


def start_sweeper(app: Any) -> None:
    """Embedded (no broker), a served process sweeps the outbox now and then for the rows no process delivered
    (engagement/sweeper.py); with a broker the beat does. Called in each gunicorn worker (web/gunicorn_conf.py)."""
    from engagement.outbox import InProcessRelay
    from engagement.sweeper import Sweeper

    core = getattr(app, "extensions", {}).get("engagement")  # none: the app failed to load (gunicorn's error app)
    if core is not None and isinstance(core.relay, InProcessRelay):
        Sweeper(core.sessions).start()
