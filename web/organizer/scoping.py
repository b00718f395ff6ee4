"""The organizer area's scope checks, in one place: every organizer view declares what it touches.

``@scoped(policy)`` goes under ``@role_required("organizer")``; it records the policy on the view
(``view.scope_policy``: the route walk in the tests finds a route that declares none) and checks it:

- ``"national"``: national organizers and admins only (invitation texts, content pages);
- ``"any"``: any organizer with a scope; the view shows only what :func:`reach` covers (lists);
- ``"event"``: the event named by the ``slug`` argument is in scope (404 when it does not exist);
- ``"committee"``: the committee named by ``slug`` is in scope;
- ``"audience"``: the audience list ``kind``/``value`` (committee or department) is in scope;
- ``"campaign"``: the campaign ``campaign_id`` writes to an audience in scope;
- ``"media"``: deleting the image ``media_id``: national, or its uploader while it is a cover only in scope;
- ``"decide"``: approving or refusing the committee ``slug``: its department's referent or national;
- ``"free"``: nothing to check (the organizer area's index).

An existing object out of scope is a 403, an unknown one a 404. A route under /organizer/ that declares
no policy is for national organizers only (:func:`guard_undeclared`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, request
from flask_login import current_user

from engagement.accounts import scopes
from engagement.campaigns import lists
from engagement.campaigns.models import Campaign
from engagement.committees import service as committees
from engagement.committees.models import Committee
from engagement.events import service as events
from engagement.media.models import Media
from web.db import db

PREFIX = "/organizer/"
log = logging.getLogger(__name__)
POLICIES = ("national", "any", "event", "committee", "audience", "campaign", "media", "decide", "free")


def reach() -> scopes.Reach:
    """What the current user may manage, read once per request."""
    if "organizer_reach" not in g:
        g.organizer_reach = scopes.reach(db(), current_user)
    found: scopes.Reach = g.organizer_reach
    return found


def _committee(slug: str) -> Committee:
    found = committees.by_slug(db(), slug)
    if found is None:
        abort(404)
    return found


def _allowed(policy: str, kwargs: dict[str, Any]) -> bool:
    where = reach()
    if policy == "free":
        return True
    if policy == "national":
        return where.national
    if policy == "any":
        return not where.empty
    if policy == "event":
        event = events.by_slug(db(), kwargs["slug"])
        if event is None:
            abort(404)
        return scopes.covers_event(db(), where, event)
    if policy == "audience":
        spec = f"{kwargs['kind']}:{kwargs['value']}"
        if kwargs["kind"] not in ("committee", "department") or lists.key_of(db(), spec) is None:
            abort(404)
        return scopes.reaches(db(), where, spec)
    if policy in ("campaign", "media"):
        return _owned(policy, kwargs, where)
    committee = _committee(kwargs["slug"])
    if policy == "committee":
        return scopes.covers_committee(db(), where, committee)
    return scopes.decides(where, committee)  # "decide"


def _owned(policy: str, kwargs: dict[str, Any], where: scopes.Reach) -> bool:
    if policy == "campaign":
        campaign = db().get(Campaign, kwargs["campaign_id"])
        if campaign is None:
            abort(404)
        return scopes.reaches(db(), where, campaign.audience)
    image = db().get(Media, kwargs["media_id"])
    if image is None:
        abort(404)
    return scopes.may_delete_media(db(), where, image, current_user.id)


def scoped(policy: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Check ``policy`` (see the module) before the view runs: 403 when the user's scopes do not cover it."""
    if policy not in POLICIES:
        raise ValueError(f"unknown scope policy {policy!r}")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not _allowed(policy, kwargs):
                abort(403)
            return view(*args, **kwargs)

        guarded.scope_policy = policy  # type: ignore[attr-defined]
        return guarded

    return decorate


def declared(policy: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record ``policy`` on a view that checks it itself, further in (the media upload: CSRF comes first)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown scope policy {policy!r}")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.scope_policy = policy  # type: ignore[attr-defined]
        return view

    return decorate


def guard_undeclared() -> None:
    """Before every request: a route under /organizer/ (the studio's too) that declares no policy is for
    national organizers only, so that a new route is never open to every scope by mistake."""
    rule = request.url_rule
    view = current_app.view_functions.get(request.endpoint or "")
    if rule is None or view is None or not rule.rule.startswith(PREFIX) or policy_of(view) is not None:
        return
    if current_user.is_authenticated and current_user.role in ("organizer", "admin") and not reach().national:
        log.warning("%s declares no scope policy: national organizers only (see web/organizer/scoping.py)",
                    request.endpoint)
        abort(403)  # anyone else gets the view's own answer (the log-in page, 403)


def policy_of(view: Callable[..., Any]) -> str | None:
    """The scope policy a view declared (None: none, which the route walk refuses)."""
    return getattr(view, "scope_policy", None)
