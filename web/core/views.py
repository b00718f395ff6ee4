"""Home, health probes, language choice and the friendly error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from engagement import homepage
from engagement.accounts.models import User
from engagement.committees.service import approved
from engagement.db import utcnow
from engagement.events.service import upcoming
from engagement.events.wording import when
from engagement.workflow.definitions import spec_of
from engagement.workflow.models import WorkflowDefinition
from web.core import images
from web.db import current_core
from web.events import finder
from web.extensions import csrf
from web.fragments import fragments
from web.locale import LOCALES, current_locale
from web.public import LANG_COOKIE, public
from web.resilience import cannot_link, plain_error, probe_all, session_unavailable, unavailable
from web.safety import safe_next

bp = Blueprint("core", __name__)
HOME_EVENTS = 8  # the next ones, as cards with their cover
HOME_COMMITTEES = 4
HOME_TAGS = ("events", "home", "committees")
LANG_COOKIE_SECONDS = 365 * 86400
images.register(bp)
log = logging.getLogger(__name__)


@bp.get("/")
@public(tags=HOME_TAGS)
def home() -> str:
    locale = current_locale()
    flows, lists = fragments().get(("home", locale, request.script_root), HOME_TAGS,
                                   lambda session: _home_lists(session, locale))
    return render_template("core/home.html", flows=flows, lists=lists, near=_near_you(locale))


def _home_lists(session: Session, locale: str) -> tuple[Markup, Markup]:
    """The home page's parts that are everyone's: the workflows an organizer put there, the next events and
    some committees (rendered once for every visitor, `web.fragments`)."""
    rows = session.scalars(select(WorkflowDefinition).where(WorkflowDefinition.is_active.is_(True))
                           .order_by(WorkflowDefinition.workflow_id)).all()
    placed = homepage.shown(session, [row.workflow_id for row in rows])  # only where an organizer put them
    # The versions this session reads (not `definitions.active`'s copy of a second ago): kept under the stamp.
    flows = [spec for row in rows if row.workflow_id in placed and homepage.can_show(spec := spec_of(row))]
    return (_part("core/_home_flows.html", flows=flows),
            _part("core/_home_lists.html", events=upcoming(session, utcnow(), limit=HOME_EVENTS),
                  committees=approved(session, limit=HOME_COMMITTEES), when=lambda e: when(e, locale)))


def _part(template: str, **context: Any) -> Markup:
    """A part of a page, to be placed as it is in the page's template."""
    # An autoescaped template's output, as the page's own would be.
    return Markup(render_template(template, **context))  # noqa: S704  # nosec B704


def _near_you(locale: str) -> Markup | None:
    """A signed-in member's events near their address (their page is private: `web.public`), the same for every
    member measured from the same points (`web.fragments`); None for a visitor or an address that places nobody."""
    if not current_user.is_authenticated or not isinstance(user := current_user._get_current_object(), User):
        return None
    postal_code, origins = finder.member_origins(user)
    if not origins:
        return None

    def build(session: Session) -> Markup:
        near = finder.near_origins(session, postal_code, origins, utcnow())
        return _part("core/_home_near.html", near=near, when=lambda e: when(e, locale),
                     distance=lambda km: finder.distance(km, locale))

    return fragments().get(("home-near", locale, request.script_root, postal_code, origins), HOME_TAGS, build)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when every service answers; else 503 naming those down (each probe has at most a second)."""
    core = current_core()
    probes = {"database": lambda: _database_ping(core.engine)}
    if core.settings.redis_url:
        probes["redis"] = lambda: _redis_ping(core.settings.redis_url)
    if core.settings.celery_broker_url:
        from workers.dispatch import check_broker

        probes["broker"] = check_broker
    checks = probe_all(probes)  # side by side, in threads: a probe uses no request state
    down = [name for name, state in checks.items() if state != "ok"]
    headers = {"Cache-Control": "no-store"}
    return jsonify(status="down" if down else "ok", checks=checks, down=down), 503 if down else 200, headers


def _database_ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis_ping(url: str) -> None:
    import redis

    from web.resilience import redis_options

    client = redis.Redis.from_url(url, **redis_options())
    try:
        client.ping()
    finally:
        client.close()


@bp.post("/lang")
@csrf.exempt  # it sets the language cookie and nothing else: a forged one changes a page's language
def choose_language():
    """The visitor's language, in a cookie of its own: the session stays empty and pages cacheable."""
    lang = request.form.get("lang")
    if lang not in LOCALES:
        abort(400)
    response = redirect(safe_next(request.form.get("next"), url_for("core.home")), code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


FAVICON_SECONDS = 7 * 86400


@bp.get("/favicon.ico")
@bp.get("/favicon.svg")
def favicon():
    """The icon browsers ask for at the site's root, kept a week (static/favicon.svg, static/favicon.ico)."""
    response = current_app.send_static_file(request.path.lstrip("/"))
    response.cache_control.no_cache = None
    response.cache_control.public, response.cache_control.max_age = True, FAVICON_SECONDS
    return response


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if session_unavailable():  # the token could not be checked: the session store is down
            return unavailable()
        message = _("Your session has expired or the form was sent twice. Please try again.")
        return error_page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            404: _("This page does not exist."),
            403: _("You are not allowed to see this page."),
            405: _("This action is not possible here."),
            413: _("What you sent is too large."),
            429: _("Too many attempts. Please wait a moment before trying again."),
        }
        message = messages.get(error.code or 500, _("The request could not be handled."))
        if request.path.startswith("/api/"):  # what a page's script reads (Retry-After rides along on a 429)
            return jsonify(error=error.name, message=str(message)), error.code
        return error_page(error.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = _("Something went wrong on our side. Nothing you entered was lost; please try again.")
        return error_page(500, message)


def error_page(code: int, message: str) -> Any:
    """The friendly error page; a plain answer when the request has no URL adapter for its links."""
    if cannot_link():
        return plain_error(code)
    return render_template("errors/error.html", code=code, message=message), code
