"""The privacy notice of a form (engagement.privacy.notices) in the reader's language, for
templates/_privacy_notice.html. Pages of the site's own forms show theirs with ``privacy_notice_html(kind)``: the
same for every reader of a language, rendered once per process."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup

from engagement.config import Settings
from engagement.privacy import notices
from engagement.workflow.spec import StateSpec, WorkflowSpec
from web.locale import current_locale


@dataclass(frozen=True)
class Shown:
    """A notice's texts, translated."""

    controller: str
    purpose: str
    basis: str
    retention: str
    dpo_email: str | None
    is_member: bool
    privacy_page: str
    contact_page: str


def shown(notice: notices.Notice | None) -> Shown | None:
    if notice is None:
        return None
    return Shown(notice.controller, notice.purpose.render(gettext), notice.basis.render(gettext),
                 notice.retention.render(gettext), notice.dpo_email, notice.is_member, notice.privacy_page,
                 notice.contact_page)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["engagement"].settings
    return settings


def for_step(spec: WorkflowSpec, state: StateSpec) -> Shown | None:
    """The notice of a wizard step for the visitor reading it; None when the step asks nothing personal."""
    return shown(notices.for_step(_settings(), spec, state, member=current_user.is_authenticated,
                                  locale=current_locale()))


def for_form(kind: str) -> Shown | None:
    """The notice of one of the site's own member forms (``profile``, ``committee``, ``follow``...): the same for
    every reader of a language, made once per process (from the deployment's settings, fixed at start-up)."""
    made: dict[tuple[str, str], Shown | None] = current_app.extensions.setdefault("privacy_notices", {})
    key = (kind, current_locale())
    if key not in made:
        made[key] = shown(notices.for_form(_settings(), kind))
    return made[key]


def html_for_form(kind: str) -> Markup:
    """templates/_privacy_notice.html for ``for_form(kind)``, rendered once per language (and script root) in this
    process: its links and texts come from the settings and the catalogue, fixed at start-up."""
    made: dict[tuple[str, str, str], Markup] = current_app.extensions.setdefault("privacy_notices_html", {})
    key = (kind, current_locale(), request.script_root)
    if key not in made:
        page = current_app.jinja_env.get_template("_privacy_notice.html").render(privacy_notice=for_form(kind))
        made[key] = Markup(page)  # noqa: S704  # nosec B704 - our template, autoescaped
    return made[key]


def init_app(app: Flask) -> None:
    app.add_template_global(for_form, "privacy_notice_for")
    app.add_template_global(html_for_form, "privacy_notice_html")
