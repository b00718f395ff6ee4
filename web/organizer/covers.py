"""Cover images: choosing one for a committee or a content page, and what the event form shares of it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.committees import service as committees
from engagement.committees.models import Committee
from engagement.db import transaction
from engagement.events.models import Event
from engagement.media.models import Media
from engagement.pages.models import ContentPage
from forms.media import GONE, CoverField, CoverForm
from web.auth.roles import role_required
from web.db import db, sessions
from web.organizer import bp
from web.organizer.media import recent
from web.organizer.scoping import scoped
from web.responses import NO_STORE


class CoverGone(Exception):
    """The chosen image was deleted between the form's check and the save."""


def bind_cover(field: CoverField, current: int | None) -> None:
    """Offer the library (most recent first, the current cover always among them); ids are checked in it."""
    library = recent(db())
    if current is not None and current not in {m.id for m in library}:
        row = db().get(Media, current)
        library += [row] if row is not None else []
    field.bind(library, lambda media_id: db().get(Media, media_id) is not None)


def apply_cover(session: Session, row: Event | Committee | ContentPage, media_id: int | None) -> None:
    """Set ``row``'s cover within the saving transaction (CoverGone, and so a rollback, if it vanished)."""
    if media_id is not None and session.get(Media, media_id) is None:
        raise CoverGone()
    row.cover_media_id = media_id


def report_gone(field: CoverField) -> None:
    field.errors = [*field.errors, str(GONE)]


@bp.get("/pages")
@role_required("organizer")
@scoped("national")
def pages() -> Any:
    rows = list(db().scalars(select(ContentPage).order_by(ContentPage.title)))
    return render_template("organizer/pages.html", pages=rows), 200, NO_STORE


@bp.route("/pages/<slug>/cover", methods=["GET", "POST"])
@role_required("organizer")
@scoped("national")
def page_cover(slug: str) -> Any:
    page = db().scalar(select(ContentPage).where(ContentPage.slug == slug))
    if page is None:
        abort(404)
    return _cover(page, ContentPage, page.title, url_for("organizer.pages"))


@bp.route("/committees/<slug>/cover", methods=["GET", "POST"])
@role_required("organizer")
@scoped("committee")
def committee_cover(slug: str) -> Any:
    committee = committees.by_slug(db(), slug)
    if committee is None:
        abort(404)
    return _cover(committee, Committee, committee.name, url_for("organizer.committees"))


def _cover(row: Committee | ContentPage, model: type[Committee] | type[ContentPage], name: str, back: str) -> Any:
    form = CoverForm(data={"cover": str(row.cover_media_id or "")})
    bind_cover(form.cover, row.cover_media_id)
    if form.validate_on_submit():
        try:
            with transaction(sessions()) as dbs:
                saved = dbs.get(model, row.id)
                assert saved is not None
                apply_cover(dbs, saved, form.cover.media_id)
        except CoverGone:
            report_gone(form.cover)
        else:
            flash(str(_l("Cover saved.")))
            return redirect(back, code=303)
    page = render_template("organizer/cover.html", form=form, row=row, name=name, back=back)
    return page, 422 if form.errors else 200, NO_STORE
