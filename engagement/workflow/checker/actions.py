"""The actions of a state's ``on_enter``/``on_exit`` and of a transition: a registered name, ``set`` or ``mail``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engagement.i18n import N_, Phrase
from engagement.workflow.checker.base import RESERVED
from engagement.workflow.checker.names import known
from engagement.workflow.loader import Path
from engagement.workflow.spec import ActionSpec

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

SINGLE_MAIL_KEYS = ("reply_to", "subject", "body", "from_name", "list_unsubscribe")
MAIL_KEYS = {"template", "subject", "body", "to", "cc", "reply_to", "from_name", "list_unsubscribe"}


def check_actions(c: Checker, node: Any, path: Path) -> tuple[ActionSpec, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        c.error(path, N_("actions must be a list"))
        return ()
    return tuple(a for i, item in enumerate(node) if (a := _action(c, item, (*path, i))))


def _action(c: Checker, item: Any, path: Path) -> ActionSpec | None:
    if isinstance(item, str):
        definition = c.registry.actions.get(item)
        if definition is None:
            c.error(path, N_("unknown action %(action)r"), action=item)
            return None
        c.data_keys |= definition.provides
        return ActionSpec("call", item)
    if not isinstance(item, dict) or len(item) != 1:
        c.error(path, N_("an action is a registered name, {mail: {...}} or {set: {...}}"))
        return None
    kind, params = next(iter(item.items()))
    if kind == "set":
        return _set_action(c, params, (*path, "set"))
    if kind == "mail":
        return _mail_action(c, params, (*path, "mail"))
    c.error((*path, kind), N_("unknown action %(action)r"), key=True, action=kind)
    return None


def _set_action(c: Checker, params: Any, path: Path) -> ActionSpec | None:
    if not isinstance(params, dict) or not params:
        c.error(path, N_("set takes a mapping key -> expression"))
        return None
    for key, expr in params.items():
        if c.name(key, (*path, key), N_("set key"), RESERVED, key=True):
            c.data_keys.add(key)
        if isinstance(expr, str):
            c.deferred.append(((*path, key), expr, "expression"))
    return ActionSpec("set", params=dict(params))


def _mail_action(c: Checker, params: Any, path: Path) -> ActionSpec | None:
    if not c.keys(params, path, MAIL_KEYS, Phrase(N_("a mail action"))):
        return None
    if "to" not in params:
        c.error(path, N_("a mail action needs 'to'"))
    template = params.get("template")
    if template is not None and not known(template, c.registry.mail_templates()):
        c.error((*path, "template"), N_("unknown mail template %(template)r"), template=template)
    inline = "subject" in params and "body" in params
    if (template is None) != inline:
        c.error(path, N_("a mail action takes either template or both subject and body"))
    for key in ("to", "cc", *SINGLE_MAIL_KEYS):
        _mail_texts(c, params.get(key), (*path, key), key)
    return ActionSpec("mail", params=dict(params))


def _mail_texts(c: Checker, values: Any, path: Path, key: str) -> None:
    """One address or text (``to`` and ``cc`` also take a list), each a template checked later."""
    if key in SINGLE_MAIL_KEYS and isinstance(values, list):
        c.error(path, N_("%(name)s takes one text, not a list"), name=key)
        return
    for i, value in enumerate(values if isinstance(values, list) else [values]):
        if value is None:
            continue
        where = (*path, i) if isinstance(values, list) else path
        if not isinstance(value, str):
            c.error(where, N_("%(name)s must be text"), name=key)
            continue
        c.deferred.append((where, value, "template"))
