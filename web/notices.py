"""The privacy notice of a form (engagement.privacy.notices) in the reader's language, for
templates/_privacy_notice.html. Pages of the site's own forms ask for theirs with ``privacy_notice_for(kind)``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import gettext
from flask_login import current_user

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
    """The notice of one of the site's own member forms (``profile``, ``committee``, ``follow``...)."""
    return shown(notices.for_form(_settings(), kind))


def init_app(app: Flask) -> None:
    app.add_template_global(for_form, "privacy_notice_for")
