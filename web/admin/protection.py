"""The admin area's "under attack" switch (docs/security.md); `engagement under-attack` does the same."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engagement import switches
from engagement.db import transaction, utcnow
from forms.admin import SwitchForm
from web.admin.views import NO_STORE, bp
from web.auth.roles import admin_required
from web.db import db, sessions
from web.extensions import limiter
from web.locale import LOCALES
from web.underattack import ATTACK_SECONDS, POLL_SECONDS, RETRY_AFTER, warm

log = logging.getLogger(__name__)


@bp.route("/under-attack", methods=["GET", "POST"])
@admin_required
@limiter.limit("30 per minute")  # the one page open under attack: a flood of it is refused early
def under_attack() -> Any:
    """The switch, who turned it last and when; a POST turns it (reaching every pod within seconds)."""
    form = SwitchForm()
    if form.validate_on_submit():
        on = form.turn.data == "on"
        with transaction(sessions()) as session:
            changed = switches.turn(session, switches.UNDER_ATTACK, on=on, by=current_user.email, now=utcnow())
        cache = current_app.extensions["page_cache"]
        cache.switch.forget()
        if changed:
            log.warning("under-attack switch turned %s by user %s", "on" if on else "off", current_user.id)
        if changed and on:  # the public pages into the cache, while this answer goes back
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            threading.Thread(target=warm, args=(app, LOCALES), daemon=True, name="warm").start()
        flash(_("The site is now protected: forms are closed and public pages come from the cache.") if on
              else _("The site is open again."))
        return redirect(url_for("admin.under_attack"), code=303)
    state = switches.state(db(), switches.UNDER_ATTACK)
    return render_template("admin/under_attack.html", state=state, form=form, poll=int(POLL_SECONDS),
                           s_maxage=ATTACK_SECONDS // 60, retry=RETRY_AFTER // 60), 200, NO_STORE
