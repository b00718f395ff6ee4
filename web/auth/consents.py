"""The member's consents on their account page: what they agreed to and when, withdrawn (or given again) in
one click. The rules are engagement.privacy.consents'; this module shows them and posts to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from engagement.accounts.models import User
from engagement.db import transaction, utcnow
from engagement.privacy import consents
from web.auth.views import bp
from web.db import db, sessions
from web.locale import current_locale
from web.responses import NO_STORE

# The newsletter's words where no sign-up form holds them (the sign-up box says the same).
NEWSLETTER_WORDS = _l("I want to receive the newsletter")
FLASHED = "consent:"  # the category of the message after a change: shown next to the consent changed
CHANGES = {"give": consents.give, "withdraw": consents.withdraw}


@dataclass(frozen=True)
class Item:
    """One consent as the account page lists it."""

    kind: str
    words: str
    given: bool
    at: datetime | None  # None: no record of when (given before consents were recorded)
    from_form: bool  # given or left unticked on a form (else changed from the account, profile or a link)
    refused: bool = False  # their mailbox refused our mail (bounce, complaint): nothing reaches them

    @property
    def is_terms(self) -> bool:
        return self.kind == consents.TERMS

    @property
    def may_give(self) -> bool:
        return not self.given and self.kind in consents.OPT_INS


def items(user: Any) -> list[Item]:
    """The member's consents, the newsletter first, named by its own words (its state is what campaigns read:
    the account's choice and the suppression list)."""
    rows = consents.standings(db(), user.id)
    found = [Item(r.kind, r.text, r.given, r.at, r.method.startswith("form:")) for r in rows
             if r.kind != consents.NEWSLETTER]
    newsletter = next((r for r in rows if r.kind == consents.NEWSLETTER), None)
    state = consents.newsletter_state(db(), user)
    at = newsletter.at if newsletter and newsletter.given == state.given else None
    shown = Item(consents.NEWSLETTER, consents.newsletter_words(db(), current_locale(), str(NEWSLETTER_WORDS)),
                 state.given, at, bool(newsletter and newsletter.method.startswith("form:")), state.refused)
    return [shown, *found]


@bp.post("/account/consents/<kind>/<choice>")
@login_required
def consent(kind: str, choice: str) -> Any:
    """Give or withdraw one consent, then back to the list with what changed (CSRFProtect checked the token)."""
    change = CHANGES.get(choice)
    if change is None or len(kind) > 64:
        return _refused(404, _("This consent does not exist."))
    try:
        with transaction(sessions()) as dbs:
            user = dbs.get(User, current_user.id)
            assert user is not None
            change(dbs, user, kind, text=str(NEWSLETTER_WORDS), locale=current_locale(), now=utcnow())
    except LookupError:
        return _refused(404, _("This consent does not exist."))
    except consents.ConsentError as error:
        message = _("The membership terms are not withdrawn on their own: leaving the movement is deleting "
                    "your account.") if error.code == consents.TERMS else \
            _("This consent is given again by filling in its form.")
        return _refused(400, message)
    flash(_("Your consent is recorded.") if choice == "give"
          else _("Your consent is withdrawn: it applies to every message sent from now on."), FLASHED + kind)
    return redirect(url_for("auth.account", _anchor=f"consent-{kind}"), code=303)


def _refused(code: int, message: str) -> Any:
    return render_template("errors/error.html", code=code, message=message), code, NO_STORE
