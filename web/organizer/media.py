"""The organizer's media library: the images uploaded, uploading one (checked by its content), deleting one."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from engagement.committees.models import Committee
from engagement.db import transaction
from engagement.events.models import Event
from engagement.media import service
from engagement.media.models import Media
from engagement.media.service import MediaRefused
from engagement.media.storage import StorageUnavailable
from engagement.pages.models import ContentPage
from forms.events import ConfirmForm
from forms.media import UploadForm
from web.auth.roles import role_required
from web.db import db, sessions
from web.extensions import csrf
from web.limits import spend
from web.organizer import bp
from web.organizer.scoping import declared, reach, scoped
from web.responses import NO_STORE

LIST_LIMIT = 200  # the most recent; older images stay chosen where they are covers
UPLOAD_LIMIT = "60 per hour"  # per account: each upload decodes and re-encodes an image
BODY_MARGIN = 64 * 1024  # room for the alt text, the token and the multipart boundaries around the file
UNSTORED = _l("The image could not be stored just now: nothing was saved. Please try again in a moment.")
log = logging.getLogger(__name__)
TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF"}


def recent(session: Session, limit: int = LIST_LIMIT) -> list[Media]:
    """The library, most recent first."""
    return list(session.scalars(select(Media).order_by(Media.created_at.desc(), Media.id.desc()).limit(limit)))


@bp.get("/media")
@role_required("organizer")
@scoped("any")
def media() -> Any:
    return _library(UploadForm(), 200)


@bp.post("/media")
@declared("any")  # by _upload and _too_large, after the CSRF check
@csrf.exempt  # checked first thing below, once the body may be as large as an image (the app-wide limit is 1 MiB)
def media_upload() -> Any:
    request.max_content_length = service.MAX_BYTES + BODY_MARGIN
    try:
        csrf.protect()  # before the role, as CSRFProtect does for every other route: a bad token is a 400
    except RequestEntityTooLarge:  # far over the limit: the body was not read, so neither was the alt text
        return _too_large()
    return _upload()


@role_required("organizer")
@scoped("any")
def _too_large() -> Any:
    form = UploadForm(formdata=None)
    form.report(MediaRefused("too_large", "the request body is over the limit"))
    return _library(form, 413)


@role_required("organizer")
@scoped("any")
def _upload() -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        return _library(form, 422)
    wait = spend(UPLOAD_LIMIT, "media.upload", per_client=False)
    if wait is not None:
        flash(ngettext("You have sent many images in the last hour: wait %(num)d minute before sending another.",
                       "You have sent many images in the last hour: wait %(num)d minutes before sending another.",
                       max(1, (wait + 59) // 60)))
        return _library(form, 429)
    try:
        with transaction(sessions()) as dbs:
            stored = service.upload(dbs, form.image.data.read(), filename=form.image.data.filename or "",
                                    uploaded_by_id=current_user.id, alt=form.alt.data or "")
            media_id = stored.id
    except MediaRefused as refusal:
        form.report(refusal)
        return _library(form, 422)
    except StorageUnavailable:
        log.warning("media upload: the storage did not answer")
        form.image.errors = [*form.image.errors, str(UNSTORED)]
        return _library(form, 503)
    flash(str(_l("Image added to the library.")))
    return redirect(url_for("organizer.media", _anchor=f"media-{media_id}"), code=303)


def _library(form: UploadForm, status: int) -> Any:
    return render_template("organizer/media.html", form=form, library=recent(db()), types=TYPES,
                           total=db().scalar(select(func.count()).select_from(Media)),
                           national=reach().national), status, NO_STORE


@bp.route("/media/<int:media_id>/delete", methods=["GET", "POST"])
@role_required("organizer")
@scoped("media")
def media_delete(media_id: int) -> Any:
    found = db().get(Media, media_id)
    if found is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        with transaction(sessions()) as dbs:
            row = dbs.get(Media, media_id)
            if row is not None:  # deleted meanwhile by someone else: the same outcome
                service.delete(dbs, row)
        flash(str(_l("Image deleted. The pages that had it as their cover now have none.")))
        return redirect(url_for("organizer.media"), code=303)
    return render_template("organizer/media_delete.html", media=found, form=form, types=TYPES,
                           uses=covered_by(db(), media_id)), 200, NO_STORE


def covered_by(session: Session, media_id: int) -> list[tuple[str, str]]:
    """What shows this image as its cover: (kind, name), to say what deleting it changes."""
    found: list[tuple[str, str]] = []
    for kind, model, name in (("event", Event, Event.name), ("committee", Committee, Committee.name),
                              ("page", ContentPage, ContentPage.title)):
        found += [(kind, n) for n in session.scalars(select(name).where(model.cover_media_id == media_id))]
    return found
