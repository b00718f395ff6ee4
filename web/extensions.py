"""Flask extensions, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect


class RouteLimiter(Limiter):
    """Flask-Limiter whose app-wide hook returns at once while nothing app-wide is limited.

    A decorated route checks its own limits in its wrapper (``in_middleware=False``), whatever the hook
    does; the hook only adds application, default and blueprint limits (and the in-memory fallback's).
    With none of them configured it resolved an empty list on every request (the wizard's step included).
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self.limits_every_request():
            return
        super()._check_request_limit(callable_name, in_middleware)

    def limits_every_request(self) -> bool:
        """Whether a limit applies beyond the decorated routes (then the app-wide hook must run)."""
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits or manager._blueprint_limits
                    or self._in_memory_fallback)


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = RouteLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
#: The JSON endpoints pages call as a visitor types (search, cities): per client; generous, as a rally's
#: visitors may share one network.
JSON_API_LIMIT = "120 per minute; 2000 per hour"
