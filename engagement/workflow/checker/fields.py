"""The checker's part that reads one field: keys that apply to its type (``fieldtypes.TYPES``), values
that fit the type (``DEFAULTS``: what a default holds, per value kind), the ``messages`` rules it can
produce. Each rejection is located at its key or value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from engagement.expressions import is_template
from engagement.i18n import N_, Phrase
from engagement.workflow.checker.names import known
from engagement.workflow.fieldtypes import FIELD_KEYS, MESSAGE_RULES, TYPES, applies_to, autocomplete_problem, takes
from engagement.workflow.loader import Path
from engagement.workflow.patterns import compile_problem
from engagement.workflow.spec import FIELD_TYPES, FieldSpec, Text

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

COUNTS = ("min_length", "max_length", "min_selected", "max_selected", "min_age", "max_age")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
# One "/" then no second "/" or "\\" (a browser reads "//host" and "/\\host" as another site), no scheme, no
# space or control character, at most 200 characters: "/charte-des-benevoles", "/pages/statuts#article-2".
SITE_PATH = re.compile(r"/(?![/\\])[^\s\x00-\x1f\x7f\\:]{0,199}")


def _a_field(ftype: str, capital: bool = False) -> Phrase:
    """"a text field", "an email field" (and "A ...", "An ..."): one French text for all four."""
    templates = (N_("a %(type)s field"), N_("an %(type)s field"), N_("A %(type)s field"), N_("An %(type)s field"))
    return Phrase(templates[(ftype[0] in "aeiou") + 2 * capital], {"type": ftype})


def _iso_date(value: Any) -> str | None:
    """``value`` as an ISO date (YAML dates arrive as ISO text), None when it is not one."""
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


def _number(value: Any, integral: bool) -> bool:
    kinds = int if integral else int | float
    return isinstance(value, kinds) and not isinstance(value, bool) and value == value  # NaN is no bound


class FieldChecker:
    """Checks one field mapping for its checker (which holds the diagnostics, names and deferred expressions)."""

    def __init__(self, checker: Checker, reserved: frozenset[str]) -> None:
        self.checker, self.reserved = checker, reserved

    def error(self, path: Path, message: str | Phrase, /, key: bool = False, **params: Any) -> None:
        self.checker.error(path, message, key=key, **params)

    def field(self, body: Any, path: Path) -> FieldSpec | None:
        if not self.checker.keys(body, path, set(FIELD_KEYS), Phrase(N_("a field"))):
            return None
        name = self.checker.name(body.get("name"), (*path, "name"), N_("field name"), self.reserved)
        ftype = body.get("type")
        if ftype not in FIELD_TYPES:
            self.error((*path, "type"), N_("unknown field type %(type)r (known: %(known)s)"), type=ftype,
                       known=", ".join(FIELD_TYPES))
            return None
        if name in self.checker.field_names:
            self.error((*path, "name"), N_("duplicate field name %(name)r"), name=name)
        if name:
            self.checker.field_names.add(name)
            self.checker.data_keys.add(name)
        values = self.values(self.applicable(body, path, ftype), path, ftype)
        return FieldSpec(name=name, type=ftype, **values) if name is not None else None

    def values(self, body: dict[str, Any], path: Path, ftype: str) -> dict[str, Any]:
        """The field's keys that apply to its type, checked: FieldSpec's arguments but its name and type."""
        c = self.checker
        choices = self.choices(body, path, ftype)
        validate, extra_rules = self.validators(body.get("validate"), (*path, "validate"))
        messages = self.messages(body, path, ftype, extra_rules)
        low, high = (self.bound(body, key, path, ftype) for key in ("min", "max"))
        self.ordered(body, path, {"min": low, "max": high})
        for key in ("visible_if", "required_if"):
            if key in body:
                c.expressions(body[key], (*path, key))
        if ftype == "consent" and body.get("required") is False:
            c.error((*path, "required"), N_("a consent box must be ticked: use a boolean field for a box that "
                                            "may stay empty"))
        opt_in = ftype == "boolean" and isinstance(body.get("name"), str) and body["name"] in c.registry.opt_ins
        if opt_in and body.get("default") not in (None, False):
            c.error((*path, "default"), N_("a consent box is never ticked in advance: remove its default"))
        return {
            **{key: c.text(body.get(key), (*path, key)) for key in ("label", "help", "placeholder")},
            **{key: c.integer(body, key, path) for key in COUNTS},
            "required": c.boolean(body, "required", path, ftype == "consent"),
            "required_if": body.get("required_if"), "visible_if": body.get("visible_if"),
            "default": self.default(body, path, ftype, choices), "min": low, "max": high,
            "pattern": self.pattern(body, path), "choices": choices, "choices_from": body.get("choices_from"),
            "validate": validate, "autocomplete": self.autocomplete(body, path), "link": self.link(body, path),
            "messages": {rule: c.text(text, (*path, "messages", rule)) for rule, text in messages.items()},
        }

    def applicable(self, body: dict[str, Any], path: Path, ftype: str) -> dict[str, Any]:
        """The keys of ``body`` that apply to ``ftype``; each other one is a diagnostic at that key."""
        kept = {}
        for key, value in body.items():
            if key in FIELD_KEYS and not takes(ftype, key):
                self.error((*path, key), N_("%(name)s does not apply to %(field)s (it applies to: %(types)s)"),
                           key=True, name=key, field=_a_field(ftype), types=", ".join(applies_to(key)))
            else:
                kept[key] = value
        return kept

    def pattern(self, body: dict[str, Any], path: Path) -> str | None:
        pattern = body.get("pattern")
        if pattern is None:
            return None
        problem = compile_problem(pattern)
        if problem is not None:
            self.error((*path, "pattern"), N_("invalid regular expression: %(error)s"), error=problem)
            return None
        return str(pattern)

    def messages(self, body: dict[str, Any], path: Path, ftype: str, extra: frozenset[str]) -> dict[str, Any]:
        messages = body.get("messages") or {}
        if not isinstance(messages, dict):
            self.error((*path, "messages"), N_("messages must be a mapping rule -> text"))
            return {}
        rules = TYPES[ftype].rules | extra
        for rule in messages:
            if rule not in MESSAGE_RULES | extra:
                self.error((*path, "messages", rule), N_("unknown rule %(rule)r in messages"), key=True, rule=rule)
            elif rule not in rules:
                self.error((*path, "messages", rule), N_("%(field)s never breaks rule %(rule)r (its rules: %(rules)s)"),
                           key=True, field=_a_field(ftype, capital=True), rule=rule, rules=", ".join(sorted(rules)))
        return {rule: text for rule, text in messages.items() if rule in rules}

    def bound(self, body: dict[str, Any], key: str, path: Path, ftype: str) -> Any:
        """``min``/``max``: a number (a whole one on an integer field), an ISO date on a date field."""
        if key not in body:
            return None
        value, kind = body[key], TYPES[ftype].value
        if kind == "date":
            if _iso_date(value) is None:
                self.error((*path, key), N_("%(name)s of a date field must be an ISO date like 2025-01-31"), name=key)
            return _iso_date(value)
        if not _number(value, integral=kind == "integer"):
            self.error((*path, key), N_("%(name)s must be a whole number") if kind == "integer"
                       else N_("%(name)s must be a number"), name=key)
            return None
        return value

    def ordered(self, body: dict[str, Any], path: Path, bounds: dict[str, Any]) -> None:
        values = {**body, **bounds}
        for low, high in (("min_length", "max_length"), ("min_selected", "max_selected"), ("min", "max"),
                          ("min_age", "max_age")):
            lo, hi = values.get(low), values.get(high)
            numbers = isinstance(lo, int | float) and isinstance(hi, int | float)
            dates = isinstance(lo, str) and isinstance(hi, str)  # ISO dates compare as text
            if (numbers or dates) and lo > hi:  # type: ignore[operator]
                self.error((*path, low), N_("%(low)s is greater than %(high)s"), low=low, high=high)

    def link(self, body: dict[str, Any], path: Path) -> str | None:
        """A consent box's ``link``: a path of this site, never another site's address."""
        if "link" not in body:
            return None
        value = body["link"]
        if not isinstance(value, str) or not SITE_PATH.fullmatch(value):
            self.error((*path, "link"), N_("link must be a path of this site starting with '/', like "
                                           "'/charte-des-benevoles'"))
            return None
        return value

    def autocomplete(self, body: dict[str, Any], path: Path) -> str | None:
        if "autocomplete" not in body:
            return None
        problem = autocomplete_problem(body["autocomplete"])
        if problem:
            self.error((*path, "autocomplete"), problem)
            return None
        return " ".join(str(body["autocomplete"]).lower().split())

    def default(self, body: dict[str, Any], path: Path, ftype: str, choices: Any) -> Any:
        """The ``default``, when it holds what the control holds (see fieldtypes' docstring)."""
        if "default" not in body or body["default"] is None:
            return None
        value, kind, where = body["default"], TYPES[ftype].value, (*path, "default")
        if is_template(value) and kind not in ("boolean", "keys"):
            self.checker.deferred.append((where, value, "template"))
            return value
        problem = _default_problem(value, kind, {key for key, _text in choices or ()} if choices else None)
        if problem:
            self.error(where, N_("default of %(field)s must be %(problem)s"), field=_a_field(ftype), problem=problem)
            return None
        return _iso_date(value) if kind == "date" else value

    def validators(self, node: Any, path: Path) -> tuple[tuple[str, ...], frozenset[str]]:
        """The registered checks a field names, and the message rules they may return."""
        names = node if isinstance(node, list) else [node] if node is not None else []
        found: list[str] = []
        rules: frozenset[str] = frozenset()
        for i, name in enumerate(names):
            where = (*path, i) if isinstance(node, list) else path
            definition = self.checker.registry.validators.get(name) if isinstance(name, str) else None
            if definition is None:
                self.error(where, N_("unknown validator %(name)r"), name=name)
                continue
            found.append(name)
            rules |= definition.rules
        return tuple(found), rules

    def choices(self, body: dict[str, Any], path: Path, ftype: str) -> tuple[tuple[str, Text], ...] | None:
        if "choices" not in TYPES[ftype].keys:
            return None
        has_inline, has_from = "choices" in body, "choices_from" in body
        if has_inline == has_from:
            self.error(path, N_("a %(type)s field needs exactly one of choices or choices_from"), type=ftype)
            return None
        if has_from:
            if not known(body["choices_from"], self.checker.registry.choices):
                self.error((*path, "choices_from"), N_("unknown choice set %(name)r"), name=body["choices_from"])
            return None
        inline = body["choices"]
        if not isinstance(inline, dict) or not inline:
            self.error((*path, "choices"), N_("choices must be a non-empty mapping key -> label"))
            return None
        for key in inline:
            if not str(key).strip():
                self.error((*path, "choices", key), N_("a choice key cannot be empty"), key=True)
        return tuple((str(k), self.checker.text(v, (*path, "choices", k))) for k, v in inline.items())


def _fits_text(value: Any, _keys: set[str] | None) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _is_key(value: Any, keys: set[str] | None) -> bool:
    return isinstance(value, str) and (keys is None or value in keys)


# What a ``default`` holds, per value kind (fieldtypes' ``FieldType.value``): a test of the value against the
# field's choice keys (None: from a registered choice set, unknown here) and the words of what it must be.
DefaultRule = tuple[Callable[[Any, set[str] | None], bool], str]
DEFAULTS: dict[str, DefaultRule] = {
    "boolean": (lambda value, _keys: isinstance(value, bool), N_("true or false")),
    "integer": (lambda value, _keys: _number(value, integral=True), N_("a number")),
    "decimal": (lambda value, _keys: _number(value, integral=False), N_("a number")),
    "date": (lambda value, _keys: bool(_iso_date(value)), N_("an ISO date like 2025-01-31 (or a {{ template }})")),
    "country": (lambda value, _keys: isinstance(value, str) and bool(COUNTRY_CODE.match(value)),
                N_("an ISO country code like FR")),
    "keys": (lambda value, keys: isinstance(value, list) and all(_is_key(v, keys) for v in value),
             N_("a list of its choice keys")),
    "key": (_is_key, N_("one of its choice keys")),
}
TEXT_DEFAULT: DefaultRule = (_fits_text, N_("text"))


def _default_problem(value: Any, kind: str, keys: set[str] | None) -> Phrase | None:
    """What a default of ``kind`` must be, when ``value`` is not that (None when it fits)."""
    fits, wanted = DEFAULTS.get(kind, TEXT_DEFAULT)
    return None if fits(value, keys) else Phrase(wanted)
