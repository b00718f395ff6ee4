"""Templates' ``_()``, ``gettext`` and ``ngettext`` bound to the request's translations once per page.

Flask-Babel installs Jinja's callables as ``lambda s: get_translations().ugettext(s)``: every string of a page
looks the request's locale and catalogue up again (a dozen microseconds each; the account page has 150). A
context processor hands each render the same catalogue's methods, wrapped as Jinja's newstyle i18n wraps
them (autoescaped as Markup, then formatted with the call's variables, ``num`` for ``ngettext``): the same
text, looked up once a page. Macros imported without context still use Flask-Babel's globals.

The layout's parts that are the same for every reader of a language with a role (the header's links, the footer,
the stylesheet's URL) are rendered once per process and kept (`site_parts`); base.html renders per request only
what is personal: the log-out form's CSRF token, the log-in link's and the language form's path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask, current_app, request, url_for
from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from engagement.workflow import definitions
from web.db import db
from web.locale import current_locale


def bound(translations: Any) -> dict[str, Any]:
    """``gettext`` and ``ngettext`` of ``translations`` as Jinja's newstyle i18n calls them."""

    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        text = translations.ugettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 - as Jinja's i18n: our catalogue, no visitor's text
        return text % variables if "%" in text else text  # type: ignore[no-any-return]

    @pass_context
    def ngettext(__context: Context, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
        variables.setdefault("num", __num)
        text = translations.ungettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # nosec B704 - as Jinja's i18n: our catalogue, no visitor's text
        return text % variables  # type: ignore[no-any-return]

    # ``_`` too: Jinja's i18n installs it as an alias that resolves ``gettext`` again at each call (a second call)
    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


class SiteParts(NamedTuple):
    """What base.html shows the same way to every reader of a language with a role (None: not signed in)."""

    locale: str
    other: str  # the language the header's button switches to
    signed_in: bool
    links: Markup  # the header's links (templates/_site_nav.html)
    footer: Markup  # templates/_footer.html
    home: str
    css: str
    js: str
    logout: str
    choose_language: str


def site_parts(role: str | None) -> SiteParts:
    """The layout's parts for the request's language and ``role``: built at the first page asking for them in this
    process (and script root), then kept; nothing in them depends on the reader but their language and role."""
    kept: dict[tuple[str, str | None, str], SiteParts] = current_app.extensions.setdefault("site_parts", {})
    key = (current_locale(), role, request.script_root)
    found = kept.get(key)
    if found is None:
        found = kept[key] = _build(key[0], role)
    return found


def _build(locale: str, role: str | None) -> SiteParts:
    env = current_app.jinja_env
    # fixed at start: a provider (Stripe, or the stand-in outside production) and the donation workflow published
    donations_open = current_app.extensions["engagement"].payments is not None and \
        definitions.active(db(), "donation") is not None
    links = env.get_template("_site_nav.html").render(role=role, donations_open=donations_open)
    footer = env.get_template("_footer.html").render()
    return SiteParts(locale, "en" if locale == "fr" else "fr", role is not None,
                     Markup(links), Markup(footer),  # noqa: S704  # nosec B704 - our templates, autoescaped
                     url_for("core.home"), url_for("static", filename="css/site.css"),
                     url_for("static", filename="js/images.js"), url_for("auth.logout"),
                     url_for("core.choose_language"))


def init_app(app: Flask) -> None:
    app.context_processor(lambda: bound(get_translations()))
    app.add_template_global(site_parts)
