"""Tasks take ids, re-read state and are idempotent."""

from __future__ import annotations

import random
from datetime import timedelta
from functools import cache

from engagement.campaigns.drafts import start_due
from engagement.core import Core, beneficiary, bootstrap
from engagement.db import utcnow
from engagement.donations.service import housekeeping
from engagement.events.registration import remind_all
from engagement.outbox import deliver, relay_pending
from engagement.privacy import retention
from engagement.workflow import sla, snapshots
from workers.app import app, settings
from workers.dispatch import CeleryRelay

SWEEP_AFTER = timedelta(minutes=15)  # longer than a task's retries wait, so a row owed a retry is left alone


@cache
def core() -> Core:
    # Rows a handler enqueues (a campaign's batches, say) become tasks too, spread over the workers.
    return bootstrap(settings, CeleryRelay)


@app.task(name="engagement.outbox.deliver", bind=True, max_retries=8, acks_late=True)
def deliver_outbox(self, outbox_id: int) -> bool:
    """Deliver one outbox row; a failure retries with exponential backoff and jitter."""
    try:
        return deliver(core().sessions, outbox_id)
    except Exception as exc:
        # Full jitter: a provider's 429 storm is not answered by every worker in the same second.
        countdown = random.uniform(0.5, 1.0) * min(600, 2 ** self.request.retries)  # noqa: S311 - not crypto  # nosec B311
        raise self.retry(exc=exc, countdown=countdown) from None


@app.task(name="engagement.events.send_reminders", acks_late=True)
def send_reminders() -> int:
    """Mail the 24-hour reminders that are due (each registrant once: ``reminded_at``)."""
    return remind_all(core().sessions, utcnow())


@app.task(name="engagement.campaigns.start_due", acks_late=True)
def start_due_campaigns() -> int:
    """Queue the scheduled campaigns whose time has come (each once: only while still scheduled)."""
    return start_due(core().sessions, utcnow())


@app.task(name="engagement.outbox.sweep", acks_late=True)
def sweep_outbox() -> int:
    """Relay again the rows stranded by a broker outage (whatever their age), then those still
    undelivered a while after their commit (their task was lost); returns how many of those."""
    CeleryRelay(core().sessions).relay_stranded()
    return relay_pending(core().sessions, core().relay, older_than=SWEEP_AFTER)


@app.task(name="engagement.workflow.sla_alerts", acks_late=True)
def sla_alerts() -> int:
    """Mail the organizers one digest of the instances newly stuck past their state's sla."""
    return sla.alert_all(core().sessions, utcnow())


@app.task(name="engagement.workflow.refresh_analytics", acks_late=True)
def refresh_analytics() -> list[str]:
    """Refresh the analytics rollup, then compute and store the unfiltered figures of every active
    workflow (the dashboard reads them)."""
    return snapshots.refresh_active(core().sessions, utcnow())


@app.task(name="engagement.donations.housekeeping", acks_late=True)
def donations_housekeeping() -> dict[str, int]:
    """Pages left open past their end give their holds back; last year's monthly donors get their receipt."""
    donations = core().settings.donations
    return housekeeping(core().sessions, utcnow(), beneficiary(core().settings) if donations else None)


@app.task(name="engagement.privacy.purge", acks_late=True)
def privacy_purge() -> dict[str, int]:
    """Apply the retention policy: erase, scrub and warn what is due (each batch committed: a second run, or
    one after an interruption, only does what is left)."""
    return retention.purge(core().sessions, settings.retention, utcnow(), locale=settings.default_locale)
