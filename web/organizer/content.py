"""The organizer area: editing the invitation's choices, arguments and texts (no deploy needed)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from engagement.db import transaction, utcnow
from engagement.invitations import content
from engagement.invitations.compose import compose
from engagement.invitations.models import KINDS, InvitationContent
from forms.organizer import ContentForm, NewChoiceForm
from web.auth.roles import role_required
from web.db import db, sessions
from web.locale import current_locale
from web.organizer import bp
from web.organizer.scoping import reach, scoped
from web.responses import NO_STORE

SECTIONS = {
    "text": _l("Texts of the message"),
    "gender": _l("Gender"),
    "position": _l("Job types"),
    "project": _l("Life projects"),
    "interest": _l("Interests"),
    "reason": _l("The supporter's reasons"),
}
PROBLEMS = {
    "gone": _l("This piece no longer exists."),
    "too_long": _l("At most %(limit)s characters."),
    "placeholder": _l("The only placeholder allowed is {{ first_name }}, written exactly so."),
    "label_required": _l("The French label is required."),
    "text_required": _l("The French text is required."),
    "greeting": _l("The introduction greets the friend: it must contain {{ first_name }}."),
    "kind": _l("Unknown kind of choice."),
    "key_format": _l("Lower-case letters, digits and _, starting with a letter."),
    "key_taken": _l("This key is already used."),
    "too_few_visible": _l("Too few choices would stay offered for the form to be answered."),
}
SAMPLE = {"friend_first_name": "Camille"}


@bp.get("/")
@role_required("organizer")
@scoped("free")
def index() -> Any:
    where = reach()
    return render_template("organizer/index.html", national=where.national, unscoped=where.empty,
                           decides=where.national or bool(where.departments)), 200, NO_STORE


@bp.get("/invitation")
@role_required("organizer")
@scoped("national")
def invitation() -> Any:
    catalog = content.catalog(db())
    sections = [(kind, SECTIONS[kind], catalog.of_kind(kind, active_only=False)) for kind in KINDS]
    return render_template("organizer/invitation.html", sections=sections, sample=_sample(catalog),
                           new_form=NewChoiceForm()), 200, NO_STORE


def _sample(catalog: content.Catalog) -> Any:
    """The message composed from the first offered option of every list, to read the result."""
    answers: dict[str, Any] = dict(SAMPLE)
    for kind, answer, many in (("gender", "friend_gender", False), ("position", "friend_position", False),
                               ("project", "friend_project", False), ("interest", "friend_interests", True),
                               ("reason", "self_reasons", True)):
        keys = [p.key for p in catalog.of_kind(kind)][: 2 if many else 1]
        answers[answer] = keys if many else (keys[0] if keys else None)
    return compose(catalog, answers, current_locale())


@bp.route("/invitation/<int:piece_id>", methods=["GET", "POST"])
@role_required("organizer")
@scoped("national")
def edit(piece_id: int) -> Any:
    row = db().get(InvitationContent, piece_id)
    if row is None:
        abort(404)
    form = ContentForm(data={"label_fr": row.label.get("fr", ""), "label_en": row.label.get("en", ""),
                             "body_fr": row.body.get("fr", ""), "body_en": row.body.get("en", ""),
                             "position": row.position, "is_active": row.is_active})
    if form.validate_on_submit():
        try:
            with transaction(sessions()) as dbs:
                content.update(dbs, piece_id, label=_pair(form, "label"), body=_pair(form, "body"),
                               position=form.position.data or 0, is_active=form.is_active.data, now=utcnow())
        except content.ContentError as error:
            _report(form, error)
        else:
            content.invalidate()  # again after commit: a read meanwhile may have cached the old rows
            flash(str(_l("Saved. Visitors see the change within a few seconds.")))
            return redirect(url_for("organizer.invitation", _anchor=f"{row.kind}-{row.key}"), code=303)
    status = 422 if form.errors else 200
    return render_template("organizer/edit.html", form=form, piece=row, section=SECTIONS[row.kind]), status, NO_STORE


@bp.route("/invitation/new/<kind>", methods=["GET", "POST"])
@role_required("organizer")
@scoped("national")
def add(kind: str) -> Any:
    if kind not in KINDS or kind == "text":
        abort(404)
    form = NewChoiceForm()
    if form.validate_on_submit():
        try:
            with transaction(sessions()) as dbs:
                row = content.add(dbs, kind, form.key.data or "", label=_pair(form, "label"),
                                  body=_pair(form, "body"), now=utcnow())
                anchor = f"{row.kind}-{row.key}"
        except content.ContentError as error:
            _report(form, error)
        else:
            content.invalidate()
            flash(str(_l("Choice added.")))
            return redirect(url_for("organizer.invitation", _anchor=anchor), code=303)
    status = 422 if form.errors else 200
    return render_template("organizer/new.html", form=form, kind=kind, section=SECTIONS[kind]), status, NO_STORE


def _pair(form: Any, prefix: str) -> dict[str, str]:
    return {locale: form[f"{prefix}_{locale}"].data or "" for locale in content.LOCALES}


def _report(form: Any, error: content.ContentError) -> None:
    """Put the service's refusal next to the input it is about."""
    message = str(PROBLEMS[error.code]) % {"limit": error.limit}
    target = form._fields.get(error.field, form.label_fr)
    target.errors = [*target.errors, message]
