"""Role checks for the organizer, analyst and admin areas (an admin may do everything)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from web.extensions import login_manager


def _guard(allowed: tuple[str, ...]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Anonymous visitors go to the log-in page; users whose role is not in ``allowed`` get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Anonymous visitors go to the log-in page; members without one of ``roles`` (or admin) get 403."""
    return _guard((*roles, "admin"))


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Admins only: anonymous visitors go to the log-in page, everybody else gets 403."""
    return _guard(("admin",))(view)
