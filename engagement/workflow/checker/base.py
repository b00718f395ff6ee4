"""What every part of the checker shares: the diagnostics, the names collected so far, the typed readers."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from typing import Any

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.fields import FieldChecker
from engagement.workflow.loader import Diagnostic, Located, Path
from engagement.workflow.registry import Registry
from engagement.workflow.spec import Text

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

LOCALES = ("fr", "en")
# Names the runtime's instance object (and transitions' generated helpers) already use.
RESERVED = frozenset({
    "id", "state", "data", "trigger", "machine", "instance", "version", "workflow_id", "actor",
    "actor_id", "completed", "is_completed", "history", "lock_version", "metadata", "registry",
    "started_at", "updated_at", "completed_at", "transitions", "user", "now", "csrf_token", "step",
    "may_trigger", "get_triggers", "to_state", "query", "session",
    "back", "restart",  # the wizard's own navigation, logged under these names
})


class Checker:
    """Checks one located document (``document.check`` walks it); holds what the parts share."""

    def __init__(self, located: Located, path: str, registry: Registry) -> None:
        self.loc, self.path, self.registry = located, path, registry
        self.diagnostics: list[Diagnostic] = []
        self.field_names: set[str] = set()
        self.data_keys: set[str] = set()  # fields, `set` targets and what actions provide
        self.deferred: list[tuple[Path, str, str]] = []  # (path, source, kind) checked at the end
        self.field_checker = FieldChecker(self, RESERVED)

    def error(self, path: Path, message: str | Phrase, /, key: bool = False, **params: Any) -> None:
        """A diagnostic at ``path``: an ``N_``-marked template and its ``params``, or a ready Phrase."""
        line, column = self.loc.where(path, key=key)
        phrase = message if isinstance(message, Phrase) else Phrase(message, params)
        self.diagnostics.append(Diagnostic.of(self.path, line, column, phrase))

    # -- small typed readers -------------------------------------------------
    def keys(self, node: Any, path: Path, allowed: set[str], what: Phrase) -> bool:
        if not isinstance(node, dict):
            self.error(path, N_("%(what)s must be a mapping"), what=what)
            return False
        for key in node:
            if key not in allowed:
                self.error((*path, key), N_("unknown key %(name)r in %(what)s (allowed: %(allowed)s)"), key=True,
                           name=key, what=what, allowed=", ".join(sorted(allowed)))
        return True

    def text(self, node: Any, path: Path) -> Text:
        if node is None:
            return {}
        if isinstance(node, str):
            return {"*": node}
        if isinstance(node, dict) and node and all(isinstance(v, str) for v in node.values()):
            for locale in node:
                if locale not in LOCALES:
                    self.error((*path, locale), N_("unknown locale %(locale)r (use fr or en)"), key=True, locale=locale)
            return dict(node)
        self.error(path, N_("text must be a string or a mapping {fr: ..., en: ...}"))
        return {}

    def name(self, value: Any, path: Path, what: str, reserved: Iterable[str] = (), key: bool = False) -> str | None:
        """``value`` when it is a usable name; ``what`` is an ``N_``-marked noun ("state name")."""
        if not isinstance(value, str) or not NAME.match(value):
            self.error(path, N_("%(what)s must match [a-z][a-z0-9_]*, got %(value)r"), key=key, what=Phrase(what),
                       value=value)
            return None
        if keyword.iskeyword(value) or value in reserved:
            self.error(path, N_("%(what)s %(value)r collides with an attribute of the workflow instance"), key=key,
                       what=Phrase(what), value=value)
            return None
        return value

    def integer(self, node: dict[str, Any], key: str, path: Path, minimum: int = 0) -> int | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error((*path, key), N_("%(name)s must be an integer >= %(minimum)s"), name=key, minimum=minimum)
            return None
        return value

    def boolean(self, node: dict[str, Any], key: str, path: Path, default: bool) -> bool:
        value = node.get(key, default)
        if not isinstance(value, bool):
            self.error((*path, key), N_("%(name)s must be true or false"), name=key)
            return default
        return value

    def expressions(self, node: Any, path: Path) -> tuple[str, ...]:
        """Conditions, ``visible_if``...: kept as written, parsed once every data key is known (``deferred``)."""
        items = node if isinstance(node, list) else [node] if node is not None else []
        result = []
        for i, item in enumerate(items):
            item_path = (*path, i) if isinstance(node, list) else path
            if isinstance(item, bool):
                item = "true" if item else "false"
            if not isinstance(item, str):
                self.error(item_path, N_("an expression must be a string"))
                continue
            self.deferred.append((item_path, item, "expression"))
            result.append(item)
        return tuple(result)
