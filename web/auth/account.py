"""The member area: the profile, their events, waitlists, committees and invitations, and deleting the account."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from babel.dates import format_date
from flask import Response, current_app, redirect, render_template, session, url_for
from flask_babel import get_timezone, gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from markupsafe import Markup
from wtforms import BooleanField
from wtforms.validators import DataRequired

from engagement.accounts import profile
from engagement.accounts.models import User
from engagement.accounts.signup import topics
from engagement.clock import PARIS
from engagement.committees.service import Followed, first_followed, followed_by
from engagement.db import settle_deletions, transaction, utcnow
from engagement.events import mine as events_mine
from engagement.events import wording as event_wording
from engagement.geo.countries import country_choices
from engagement.geo.postal import city_options
from engagement.invitations.service import Sent, sent_by
from engagement.privacy import consents, erasure, export
from engagement.workflow.spec import localize
from forms import address
from forms.profile import ProfileForm
from forms.text import TextForm
from web.auth.consents import items as consent_items
from web.auth.views import bp
from web.db import db, release, sessions
from web.extensions import limiter
from web.locale import current_locale
from web.responses import NO_STORE

SHOWN = 10  # the lines of each list on the account page; all of them on the list's own page ("See all")
SLUG = "slug-placeholder"  # the slug in a list's link built once (``_href``)
PLAIN_SLUG = re.compile(r"[a-z0-9-]+")  # what engagement.slugs makes: url_for keeps it as it is
ERASED_KEY = "erased"  # the session key carrying an erasure's counts to its confirmation page


class DeleteForm(TextForm):
    confirm = BooleanField(_l("I understand that my account and my answers will be erased for good"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


@bp.get("/account")
@login_required
def account() -> Any:
    return _account_page(None, 200)  # no form built: its box comes from `delete_box`, its token from csrf_token()


def delete_box() -> Markup:
    """The delete form's box and label as an unposted `DeleteForm` renders them, kept per language (building the
    form at each GET cost more than the rest of that section)."""
    kept: dict[str, Markup] = current_app.extensions.setdefault("account_delete_box", {})
    locale = current_locale()
    if locale not in kept:
        form = DeleteForm(formdata=None)
        kept[locale] = Markup(f"{form.confirm(value='y')} {form.confirm.label()}")  # noqa: S704  # nosec B704
    return kept[locale]


def _account_page(form: DeleteForm | None, status: int) -> Any:
    locale, user = current_locale(), current_user._get_current_object()  # the row, not its proxy, on every read
    country = (user.address or {}).get("country")
    places, places_total = events_mine.first_upcoming(db(), user.id, user.email, utcnow(), SHOWN)
    committees, committees_total = first_followed(db(), user.id, SHOWN)
    invitations, invited, joined = sent_by(db(), user.id, SHOWN)
    day = _day(locale)
    return render_template(
        "auth/account.html", user=user, form=form, day=day, **_places(places, locale),
        places_total=places_total, **_committees(committees), committees_total=committees_total,
        **_invitations(invitations, invited, joined, day), invitations_total=invited,
        interests=profile.interest_labels(db(), user, locale),
        country=dict(country_choices(locale)).get(country, country) if country else None,
        consents=consent_items(user), delete_box=delete_box,
    ), status, NO_STORE


# The lists' lines come ready to show (links, dates and words made here): the template only places them, as a
# call from a template costs several times the same call from Python.
class PlaceLine(NamedTuple):
    """A place at an upcoming event: the event's link and name, its start in words, the waitlist position."""

    href: str
    name: str
    when: str
    position: int | None


class CommitteeLine(NamedTuple):
    href: str
    name: str
    role: str


class InvitationLine(NamedTuple):
    friend: str | None  # None: the friend's address was erased, their name is not shown
    invited: str  # "invited on 7 December 2026", in the reader's language and time zone
    joined: bool


def _places(places: list[events_mine.Upcoming], locale: str) -> dict[str, list[PlaceLine]]:
    href, when = _href("events.detail"), event_wording.when  # it reads what an Upcoming has: begins_at, timezone
    lines = [(place.status, PlaceLine(href(place.slug), place.name, when(place, locale),  # type: ignore[arg-type]
                                      place.position)) for place in places]
    return {"registered": [line for status, line in lines if status == "registered"],
            "waitlisted": [line for status, line in lines if status == "waitlisted"]}


def _committees(committees: list[Followed]) -> dict[str, list[CommitteeLine]]:
    href = _href("committees.detail")
    return {"committees": [CommitteeLine(href(c.slug), c.name, c.role) for c in committees]}


def _invitations(invitations: list[Sent], invited: int, joined: int, day: Callable[[datetime], str]) -> dict[str, Any]:
    invited_on = gettext("invited on %(date)s")
    return {"invitations": [InvitationLine(None if i.friend_hashed_at else i.friend_first_name,
                                           invited_on % {"date": day(i.created_at)}, i.joined_at is not None)
                            for i in invitations], "invited": invited, "joined": joined}


def _whole(which: str, user: User, locale: str) -> dict[str, Any]:
    """One of the member's lists, whole (the invitations: the latest ``SENT_SHOWN``, with the figures)."""
    if which == "places":
        return _places(events_mine.upcoming(db(), user.id, user.email, utcnow()), locale)
    if which == "committees":
        return _committees(followed_by(db(), user.id))
    return _invitations(*sent_by(db(), user.id), _day(locale))


# A long list's own page (the account page shows its first `SHOWN` lines and links here): the template, its title.
LISTS = {"places": ("auth/_my_places.html", _l("My events")),
         "committees": ("auth/_my_committees.html", _l("Committees I follow")),
         "invitations": ("auth/_my_invitations.html", _l("My invitations"))}


@bp.get("/account/places", defaults={"which": "places"}, endpoint="my_places")
@bp.get("/account/committees", defaults={"which": "committees"}, endpoint="my_committees")
@bp.get("/account/invitations", defaults={"which": "invitations"}, endpoint="my_invitations")
@login_required
def my_list(which: str) -> Any:
    """All of one of the account page's lists (the invitations: the latest ``invitations.service.SENT_SHOWN``)."""
    template, title = LISTS[which]
    return render_template("auth/my_list.html", part=template, title=title,
                           **_whole(which, current_user._get_current_object(), current_locale())), 200, NO_STORE


def _href(endpoint: str) -> Callable[[str], str]:
    """``url_for(endpoint, slug=...)`` for the slugs of a list: the route built once a page, not once a line."""
    prefix = url_for(endpoint, slug=SLUG)
    return lambda slug: prefix.replace(SLUG, slug, 1) if PLAIN_SLUG.fullmatch(slug) else url_for(endpoint, slug=slug)


def _day(locale: str) -> Callable[[datetime], str]:
    """"7 décembre 2026": the day of a moment in the request's time zone, as Flask-Babel's ``to_user_timezone`` and
    ``format_date(moment, "long")`` say it; the zone looked up once a page, each day formatted once per process."""
    zone = get_timezone()

    def day(moment: datetime) -> str:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return _long_date(zone.normalize(moment.astimezone(zone)).date(), locale)
    return day


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: str) -> str:
    return format_date(day, "long", locale=locale)


def _topics(locale: str) -> list[tuple[str, str]]:
    return [(key, localize(label, locale)) for key, label in topics(db())]


@bp.route("/account/edit", methods=["GET", "POST"])
@login_required
def edit_profile() -> Any:
    locale = current_locale()
    initial = {"address": current_user.address or {"country": "FR"}, "interests": current_user.interests,
               "newsletter": consents.newsletter_state(db(), current_user).given}  # as campaigns see it
    form = ProfileForm(data=initial).bind(locale, city_options, _topics(locale))
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            user = dbs.get(User, current_user.id)
            assert user is not None
            profile.update_profile(dbs, user, address=address.parts(form.address), interests=form.interests.data or [],
                                   newsletter=bool(form.newsletter.data), words=str(form.newsletter.label.text),
                                   locale=locale, now=utcnow())
        return redirect(url_for("auth.account"), code=303)
    return render_template("auth/edit_profile.html", form=form), 422 if form.errors else 200, NO_STORE




@bp.post("/account/delete")
@login_required
def delete_account() -> Any:
    form = DeleteForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    user_id = current_user.id
    with transaction(sessions()) as dbs:
        user = dbs.get(User, user_id)
        erased = erasure.erase_user(dbs, user, utcnow()) if user is not None else None
    release()  # this request's reader: an open one keeps SQLite's log from being emptied
    engine = current_app.extensions["engagement"].engine
    threading.Thread(target=settle_deletions, args=(engine, 30.0), name="settle-deletions", daemon=True).start()
    logout_user()
    session.clear()
    if erased is not None:
        session[ERASED_KEY] = erased.as_dict()  # counts only: what the next page tells them was erased
    return redirect(url_for("auth.deleted"), code=303)


@bp.get("/account/deleted")
def deleted() -> Any:
    return render_template("auth/deleted.html", erased=session.pop(ERASED_KEY, None)), 200, NO_STORE


DATA_LIMIT = "10 per hour"  # downloads per account: each one reads everything held about the member


def _account_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"ip:{get_remote_address()}"


@bp.get("/account/data")
@limiter.limit(DATA_LIMIT, key_func=_account_key, deduct_when=lambda response: response.status_code == 200)
@login_required
def my_data() -> Any:
    """Everything held about the member, as a ZIP (GDPR art. 15 and 20). It takes no id: always their own."""
    now, user = utcnow(), db().get(User, current_user.id)
    assert user is not None  # the session's user was just loaded
    body = export.zip_bytes(export.collect(db(), user, now))
    name = f"engagement-mes-donnees-{now.astimezone(PARIS):%Y-%m-%d}.zip"
    return Response(body, mimetype="application/zip", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"})
