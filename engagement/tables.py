"""Every table of the platform, for what needs them all at once: metadata and Alembic, the core's start, tests.

Its own module rather than part of ``engagement.db``, which every package imports: importing the plumbing must
not import every domain (the workflow engine would then depend on all of them, import-linter's contracts).
"""

from __future__ import annotations


def import_models() -> None:
    """Import every module that declares tables, so that metadata (and Alembic) sees them all."""
    from engagement import outbox, ratelimits, switches  # noqa: F401
    from engagement.accounts import models as _accounts  # noqa: F401
    from engagement.accounts import tokens as _tokens  # noqa: F401
    from engagement.campaigns import models as _campaigns  # noqa: F401
    from engagement.committees import models as _committees  # noqa: F401
    from engagement.donations import models as _donations  # noqa: F401
    from engagement.events import models as _events  # noqa: F401
    from engagement.invitations import models as _invitations  # noqa: F401
    from engagement.mail import models as _mail  # noqa: F401
    from engagement.media import models as _media  # noqa: F401
    from engagement.pages import models as _pages  # noqa: F401
    from engagement.privacy import models as _privacy  # noqa: F401
    from engagement.search import models as _search  # noqa: F401
    from engagement.sessions import models as _sessions  # noqa: F401
    from engagement.workflow import models as _workflow  # noqa: F401
