"""``engagement donations``: the daily round of the donations ledger, by hand or from cron."""

from __future__ import annotations

from web.cli import _core, _emit, main


@main.group()
def donations() -> None:
    """Donations and membership fees (docs/donations.md)."""


@donations.command("housekeeping")
def donations_housekeeping() -> None:
    """Give back the holds of payment pages left open past their end, and issue last year's yearly receipts to
    monthly donors (what the beat does daily; run again, it does only what is left)."""
    from engagement.core import beneficiary
    from engagement.db import utcnow
    from engagement.donations.service import housekeeping

    core = _core()
    done = housekeeping(core.sessions, utcnow(), beneficiary(core.settings) if core.settings.donations else None)
    _emit(done)
