"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, g, request
from flask_babel import get_locale
from flask_caching import Cache
from sqlalchemy.exc import IntegrityError

from engagement import PROJECT_ROOT
from engagement.config import Settings, load_settings
from engagement.core import Core, bootstrap
from engagement.db import transaction, utcnow
from engagement.invitations import content
from engagement.pages import legal
from engagement.pages.service import linked as pages_linked
from engagement.workflow import definitions
from engagement.workflow.spec import localize
from web import formdata, headers, notices, pagecache, public, shield, templating
from web.db import current_core
from web.donations import standin
from web.extensions import babel, csrf, limiter, login_manager
from web.locale import LOCALES
from web.media import mount as mount_media
from web.public import LANG_COOKIE, choose_locale
from web.relays import hold_detached_work, relay_factory

log = logging.getLogger(__name__)


class App(Flask):
    """Flask, with each hook's and view's sync-or-async answer kept: Flask asks `inspect` again for every one of
    them at every request (13 a wizard step), and the answer of a given function never changes."""

    request_class = formdata.Request  # MAX_FORM_MEMORY_SIZE on urlencoded fields too (web/formdata.py)
    _KEPT_AT_MOST = 4096  # functions made per request (none today) would go uncached past this, not grow it

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        kept: dict[Callable[..., Any], Callable[..., Any]] = self.__dict__.setdefault("_synced", {})
        synced = kept.get(func)
        if synced is None:
            synced = super().ensure_sync(func)
            if len(kept) < self._KEPT_AT_MOST:
                kept[func] = synced
        return synced


def select_locale() -> str:
    """The visitor's choice (a cookie, not the session: pages stay cacheable), else the browser's."""
    return choose_locale(request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language"), LOCALES,
                         current_core().settings.default_locale)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    if not logging.getLogger().handlers:  # gunicorn and tests bring their own
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = App(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder=str(PROJECT_ROOT / "static"),
                instance_path=str(settings.instance_dir or PROJECT_ROOT / "instance"))
    core = bootstrap(settings, relay_factory(settings))
    app.extensions["engagement"] = core
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="engagement_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        # Flask-Login's "remember me" cookie (not offered today) would carry the same protections.
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        # Request sizes (docs/security.md): a whole body, each form field, multipart or urlencoded (the
        # studio's 256 KiB workflow text fits), and the number of fields and files of one form.
        MAX_CONTENT_LENGTH=1024 * 1024,
        MAX_FORM_MEMORY_SIZE=512 * 1024,
        MAX_FORM_PARTS=300,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        # Every counter (the decorators' and those the wizard and the log-in throttle hit by hand) in Redis,
        # REDIS_PREFIX at the storage itself, else in the database: shared by every worker (web/limits.py).
        **_limit_storage(settings, core),
        # The storage down: count in this process's memory (logged), and go back once it answers.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        ENGAGEMENT_ENV=settings.env,
    )
    _init_sessions(app, core)
    hold_detached_work(app)  # a reset link is composed once the answer is out (engagement/outbox.py, DETACHED)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    _register_blueprints(app)
    mount_media(app)  # /media/: images, served without session or database (docs/media.md)
    standin.install(app, core)  # without Stripe keys, outside production: a stand-in provider (docs/donations.md)
    app.jinja_env.globals.update(get_locale=get_locale, LOCALES=LOCALES)
    app.jinja_env.filters["linked"] = pages_linked  # a page's own paths as links (engagement.pages.service)
    app.jinja_env.filters["localize"] = lambda text: localize(text, str(get_locale() or settings.default_locale))
    notices.init_app(app)  # privacy_notice_for(kind): the notice of a member form (templates/_privacy_notice.html)
    templating.init_app(app)  # a page's strings looked up in one catalogue fetched once (web/templating.py)
    app.teardown_appcontext(_close_db)
    headers.init_app(app, production=settings.is_production)
    public.mark_responses(app)
    # Outermost: pingback floods are refused before Flask builds a request (web/shield.py); then the page
    # cache and the under-attack switch (web/pagecache.py), before any session is opened.
    app.wsgi_app = shield.wrap(_page_cache(app, core), settings.trusted_proxies)  # type: ignore[method-assign]
    _load_data(core)
    return app


def _page_cache(app: Flask, core: Core) -> pagecache.PageCache:
    from web.underattack import Closed, SwitchReader

    settings = core.settings
    if settings.redis_url:
        from web.resilience import redis_options

        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url,
                  "CACHE_KEY_PREFIX": f"{settings.redis_prefix}page:", "CACHE_OPTIONS": redis_options()}
    else:  # one process (make run): its memory, at most a thousand pages
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 1000}
    store = pagecache.Store(Cache(app, config=config), app)
    cache = pagecache.PageCache(app.wsgi_app, app, store, locales=LOCALES, default_locale=settings.default_locale,
                                session_cookie=app.config["SESSION_COOKIE_NAME"], switch=SwitchReader(core.engine),
                                closed=Closed(app), generations=core.generations)
    app.extensions["page_cache"] = cache
    return cache


def _limit_storage(settings: Settings, core: Core) -> dict[str, Any]:
    from web.limits import storage_settings

    options: dict[str, Any] = {}
    if settings.redis_url:
        from web.resilience import redis_options

        options = {"key_prefix": f"LIMITS:{settings.redis_prefix}", **redis_options()}
    return storage_settings(settings.redis_url, options, core.engine)


def _init_sessions(app: Flask, core: Core) -> None:
    if core.settings.redis_url:
        import redis

        from web.resilience import redis_options
        from web.sessions import ResilientRedisSessionInterface

        client = redis.Redis.from_url(core.settings.redis_url, **redis_options())
        prefix = f"{core.settings.redis_prefix}session:"
        app.session_interface = ResilientRedisSessionInterface(app, client=client, key_prefix=prefix)
    else:
        from web.sessions import DatabaseSessionInterface

        app.session_interface = DatabaseSessionInterface(app, core.sessions)


def _register_blueprints(app: Flask) -> None:
    # Modules whose views hang on another module's blueprint (imported for that).
    import web.admin.protection  # the under-attack switch, on the admin blueprint
    import web.auth.account  # the member's account pages, on the auth blueprint
    import web.auth.donations  # a member's donations and receipts, on the auth blueprint
    import web.auth.reset  # password reset and activation resend, on the auth blueprint
    import web.events.confirmation  # the event registration's confirmation page (web/wizard/finals.py)
    import web.events.places  # noqa: F401 - a member's place from the event's page, on the events blueprint
    from web.admin.views import bp as admin
    from web.analyst.views import bp as analyst
    from web.api.views import bp as api
    from web.auth.views import bp as auth
    from web.committees.views import bp as committees
    from web.core.views import bp as core_views
    from web.core.views import register_error_pages
    from web.dev.views import bp as dev
    from web.donations.views import bp as donations
    from web.events.views import bp as events
    from web.explorer.views import bp as explorer
    from web.invitations.views import bp as invitations
    from web.organizer import bp as organizer
    from web.pages.views import bp as pages
    from web.search.views import bp as search
    from web.studio import bp as studio
    from web.treasurer.views import bp as treasurer
    from web.unsubscribe.views import bp as unsubscribe
    from web.webhooks.views import bp as webhooks
    from web.wizard.views import bp as wizard

    app.register_blueprint(core_views)
    app.register_blueprint(wizard)
    app.register_blueprint(auth)
    app.register_blueprint(api)
    app.register_blueprint(invitations)
    app.register_blueprint(events)
    app.register_blueprint(webhooks)
    app.register_blueprint(committees)
    app.register_blueprint(organizer)
    app.register_blueprint(studio)
    app.register_blueprint(unsubscribe)
    app.register_blueprint(admin)
    app.register_blueprint(explorer)
    app.register_blueprint(analyst)
    app.register_blueprint(search)
    app.register_blueprint(pages)
    app.register_blueprint(treasurer)
    app.register_blueprint(donations)
    if app.config["ENGAGEMENT_ENV"] != "production":
        app.register_blueprint(dev)
    register_error_pages(app)


def _close_db(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def _load_data(core: Core) -> None:
    """Start-up publishes the files of workflows/ (a bad file is refused, the running version stays)
    and seeds the organizers' content where a kind of it has no row yet, and the site's own pages."""
    directory = core.settings.workflows_dir
    try:
        with transaction(core.sessions) as session:
            files = definitions.workflow_files(directory) if directory.is_dir() else []
            published, diagnostics = definitions.load_files(session, files)
            content.seed(session)
            legal.seed(session, utcnow())  # the privacy and legal notices... never answer 404 (pages/legal.py)
    except IntegrityError:
        log.info("workflow files were published by another process starting at the same time")
        return
    except Exception:  # no tables yet: `engagement db upgrade` has not run
        log.warning("workflow files not loaded at start-up (is the database migrated?)", exc_info=True)
        return
    for diagnostic in diagnostics:
        log.error("%s", diagnostic)
    for item in published:
        if item.changed:
            log.info("published %s version %s", item.workflow_id, item.version)
