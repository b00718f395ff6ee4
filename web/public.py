"""Public pages: what a view declares with ``@public``, and how Flask answers it (docs/security.md).

A view marked ``@public(args=...)`` is the same for every anonymous visitor of a language. To such a
visitor (no session cookie, none created) Flask answers it ``Cache-Control: public, max-age=0,
s-maxage=60`` with ``Vary: Cookie, Accept-Language`` and no ``Set-Cookie``, so that a CDN may keep it;
every other page stays ``private``. `web.pagecache` keeps those answers and serves them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, request, session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

F = TypeVar("F", bound=Callable[..., Any])

PAGE_SECONDS = 60  # how long a CDN (and the page cache) may keep a public page in normal times
LANG_COOKIE = "lang"  # the visitor's language choice (POST /lang): "fr" or "en", nothing else
VARY = "Cookie, Accept-Language"
_POLICY = "_public_page"


@dataclass(frozen=True)
class Policy:
    """A public page: the query arguments it depends on, those that make it private when present, and the
    tags of what it shows (`engagement.generations`; ``{name}`` is the URL's part of that name): a kept copy
    is served only while their generations are those it was rendered with."""

    args: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    s_maxage: int = PAGE_SECONDS
    tags: tuple[str, ...] = ()

    def tags_for(self, values: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(tag.format(**values) for tag in self.tags)


def public(*, args: tuple[str, ...] = (), unless: tuple[str, ...] = (), s_maxage: int = PAGE_SECONDS,
           tags: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Mark a GET view as a public page: ``@public(args=("page",), unless=("q",), tags=("event:{slug}",))``."""

    def mark(view: F) -> F:
        setattr(view, _POLICY, Policy(args, unless, s_maxage, tags))
        return view

    return mark


def policies(app: Flask) -> dict[str, Policy]:
    """The public pages of ``app``, by endpoint."""
    return {endpoint: policy for endpoint, view in app.view_functions.items()
            if (policy := getattr(view, _POLICY, None)) is not None}


def choose_locale(cookie: str | None, accept_language: str | None, locales: tuple[str, ...], default: str) -> str:
    """The page's language: the visitor's choice, else the browser's preference (Flask-Babel and the cache)."""
    if cookie in locales:
        return str(cookie)
    return str(parse_accept_header(accept_language, LanguageAccept).best_match(locales, default=default))


def mark_responses(app: Flask) -> None:
    """Flask's half: a public page answered to an anonymous visitor says so; any other page is private."""
    known = policies(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    @app.after_request
    def cache_headers(response: Response) -> Response:
        policy = known.get(request.endpoint or "")
        html = response.mimetype == "text/html"
        if policy is None and not html:
            return response
        response.vary.update(("Cookie", "Accept-Language"))  # the page depends on the session and the language
        if policy is not None and _is_anonymous_public(policy, response, cookie_name):
            response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={policy.s_maxage}"
        elif policy is not None or "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-cache"
        return response


def _is_anonymous_public(policy: Policy, response: Response, cookie_name: str) -> bool:
    return (request.method in ("GET", "HEAD") and response.status_code == 200 and cookie_name not in request.cookies
            and not session.modified and not session and "Set-Cookie" not in response.headers
            and not any(request.args.get(name, "").strip() for name in policy.unless))
