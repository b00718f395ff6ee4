"""Editing a content page's title and text (the privacy notice, the legal notice... included): national
organizers only, since these texts speak for the whole movement."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engagement.db import transaction, utcnow
from engagement.pages import legal
from engagement.pages.service import PageError, by_slug, edit
from forms.messages import DEFAULT_MESSAGES
from forms.pages import AT_MOST, PageForm
from web.auth.roles import role_required
from web.db import db, sessions
from web.organizer import bp
from web.organizer.scoping import scoped
from web.responses import NO_STORE


@bp.route("/pages/<slug>/edit", methods=["GET", "POST"])
@role_required("organizer")
@scoped("national")
def page_edit(slug: str) -> Any:
    page = by_slug(db(), slug) or (legal.shown(db(), slug) if slug in legal.SLUGS else None)
    if page is None:
        abort(404)
    form = PageForm(data={"title": page.title, "body": page.body})
    if form.validate_on_submit():
        try:
            with transaction(sessions()) as session:
                edit(session, slug, title=form.title.data or "", body=form.body.data or "", now=utcnow(),
                     actor_id=current_user.id)
        except PageError as refused:  # the form checks the same, so only a race or a changed rule lands here
            message = AT_MOST % {"max": refused.limit} if refused.code == "too_long" else DEFAULT_MESSAGES["required"]
            getattr(form, refused.field).errors = [str(message)]
        else:
            flash(str(_l("Page saved.")))
            return redirect(url_for("organizer.pages"), code=303)
    body = render_template("organizer/page_edit.html", form=form, page=page, address=legal.path(slug))
    return body, 422 if form.errors else 200, NO_STORE
