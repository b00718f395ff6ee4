"""Security headers on every response (docs/security.md).

Six fixed headers do not need Flask-Talisman (last released in 2023, and it also redirects to HTTPS
and rewrites the cookie settings, which the ingress and `create_app` own); one view may widen the
policy with `csp`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, request

F = TypeVar("F", bound=Callable[..., Any])

POLICY: dict[str, str] = {
    "default-src": "'self'",
    "img-src": "'self' data:",  # image placeholders are data: URIs
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"
_OVERRIDES = "_csp_overrides"


def policy(overrides: dict[str, str] | None = None) -> str:
    """The Content-Security-Policy header's value, with ``overrides`` replacing whole directives."""
    return "; ".join(f"{name} {value}" for name, value in {**POLICY, **(overrides or {})}.items())


DEFAULT_POLICY = policy()


def csp(**directives: str) -> Callable[[F], F]:
    """Widen the policy of one view: ``@csp(style_src="'self' 'unsafe-inline'")``."""
    overrides = {name.replace("_", "-"): value for name, value in directives.items()}
    unknown = set(overrides) - set(POLICY)
    if unknown:
        raise ValueError(f"unknown CSP directives: {', '.join(sorted(unknown))}")

    def mark(view: F) -> F:
        setattr(view, _OVERRIDES, overrides)
        return view

    return mark


def init_app(app: Flask, *, production: bool) -> None:
    """Add the headers to every response Flask builds (the shield's 403 is plain text, served before)."""
    fixed = [*FIXED.items(), *([("Strict-Transport-Security", HSTS)] if production else [])]

    @app.after_request
    def secure(response: Response) -> Response:
        view = app.view_functions.get(request.endpoint or "")
        overrides = getattr(view, _OVERRIDES, None)
        present = {name.lower() for name, _value in response.headers}  # one pass, not one per header set
        response.headers.extend([
            (name, value) for name, value in (
                ("Content-Security-Policy", policy(overrides) if overrides else DEFAULT_POLICY), *fixed)
            if name.lower() not in present])
        return response
