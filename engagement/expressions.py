"""Sandboxed Jinja2 expressions and templates over ``data``, ``user``, ``now`` and ``instance``.

The one templating language of the platform: workflows' conditions and texts, mail templates and invitation
texts all go through it, so it belongs to neither the engine nor the mail.

Nothing outside that context is reachable: no globals, no private attributes, no mutating
methods, and the operators that could build huge values are bounded.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engagement.i18n import N_, Phrase

log = logging.getLogger(__name__)

CONTEXT_NAMES = frozenset({"data", "user", "now", "instance"})
USER_ATTRIBUTES = frozenset({"id", "email", "first_name", "last_name", "role", "is_authenticated"})
INSTANCE_ATTRIBUTES = frozenset({"id", "state", "version", "started_at"})
MAX_REPEAT = 10_000  # longest string or list a repetition may build
MAX_EXPONENT = 100
MAX_POWER_BITS = 4096  # largest integer a power may build


class ExpressionError(Exception):
    """An expression or template that does not parse or names what it may not."""

    @property
    def phrase(self) -> Phrase:
        """The message with its template when it has one (Jinja's own messages are plain English)."""
        message = self.args[0] if self.args else ""
        return message if isinstance(message, Phrase) else Phrase("%(text)s", {"text": str(message)})


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise ExpressionError("exponent too large")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > MAX_POWER_BITS:
                raise ExpressionError("power too large")  # bound the result, not only the exponent
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int) and (
                count > MAX_REPEAT or len(seq) * count > MAX_REPEAT  # bound the result, not the count
            ):
                raise ExpressionError("repetition too large")
        return operator.mul(left, right)


# Filters that cannot build a value much larger than their input (no center, format, indent,
# wordwrap, pprint, random): a filter outside this list is a checker error.
SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
    "forceescape", "int", "join", "last", "length", "list", "lower", "map", "max", "min", "reject",
    "rejectattr", "replace", "reverse", "round", "select", "selectattr", "sort", "string", "striptags",
    "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount",
})
MAX_REPLACED = 100_000


def _bounded_replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    occurrences = text.count(str(old)) if old else len(text) + 1
    if len(text) + occurrences * max(0, len(str(new)) - len(str(old))) > MAX_REPLACED:
        raise ExpressionError("replacement too large")
    return text.replace(str(old), str(new), -1 if count is None else count)


def _make_env(autoescape: bool) -> _BoundedSandbox:
    env = _BoundedSandbox(autoescape=autoescape, keep_trailing_newline=True)
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
    env.filters = {name: f for name, f in env.filters.items() if name in SAFE_FILTERS}
    env.filters["replace"] = _bounded_replace
    return env


ENV = _make_env(autoescape=False)
HTML_ENV = _make_env(autoescape=True)


class Answers:
    """Read-only answers; ``data.x`` reads an answer even when ``x`` is also a dict method name."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._values.get(name)

    def __getitem__(self, name: str) -> Any:
        return self._values.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values


def parse_expression(source: str) -> nodes.Expr:
    """Parse one expression exactly as ``compile_expression`` would, or raise ExpressionError."""
    try:
        parser = Parser(ENV, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise ExpressionError(Phrase(N_("unexpected %(token)r after the expression"),
                                          {"token": parser.stream.current.value}))
        ENV.compile_expression(source)  # also resolves filters and tests
    except TemplateError as exc:
        raise ExpressionError(exc.message or str(exc)) from None
    return expr


def parse_template(source: str) -> nodes.Template:
    try:
        ast = ENV.parse(source)
        ENV.from_string(source)
    except TemplateError as exc:
        raise ExpressionError(exc.message or str(exc)) from None
    return ast


def referenced(ast: nodes.Node) -> tuple[set[str], set[str], list[Phrase]]:
    """(top-level names, ``data`` keys read, problems) of a parsed expression or template."""
    names: set[str] = set()
    data_keys: set[str] = set()
    problems: list[Phrase] = []
    ast = nodes.Output([ast])  # find_all skips the node it starts from: `data.x` alone is one Getattr
    local = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in local:
            names.add(name.name)
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        key = node.attr if isinstance(node, nodes.Getattr) else _const_key(node)
        if isinstance(key, str) and key.startswith("_"):
            problems.append(Phrase(N_("private attribute %(name)r is not reachable"), {"name": key}))
        if not (isinstance(node.node, nodes.Name) and key is not None):
            continue
        owner = node.node.name
        if owner == "data":
            data_keys.add(key)
        elif owner == "user" and key not in USER_ATTRIBUTES:
            problems.append(Phrase(N_("user has no attribute %(name)r (known: %(known)s)"),
                                   {"name": key, "known": ", ".join(sorted(USER_ATTRIBUTES))}))
        elif owner == "instance" and key not in INSTANCE_ATTRIBUTES:
            problems.append(Phrase(N_("instance has no attribute %(name)r (known: %(known)s)"),
                                   {"name": key, "known": ", ".join(sorted(INSTANCE_ATTRIBUTES))}))
    return names, data_keys, problems


def _const_key(node: nodes.Getitem) -> str | None:
    arg = node.arg
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None


@lru_cache(maxsize=4096)
def _compiled_expression(source: str) -> Any:
    return ENV.compile_expression(source)


@lru_cache(maxsize=1024)
def _compiled_template(source: str, html: bool) -> Any:
    return (HTML_ENV if html else ENV).from_string(source)


def evaluate(source: str, context: Mapping[str, Any]) -> Any:
    """The value of an expression; a runtime error (None compared with 18, say) is ExpressionError."""
    try:
        return _compiled_expression(source)(**context)
    except ExpressionError:
        raise
    except Exception as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None


def holds(source: str, context: Mapping[str, Any]) -> bool:
    """A condition's truth; one that cannot be evaluated (an unanswered field) does not hold."""
    try:
        return bool(evaluate(source, context))
    except ExpressionError as exc:
        log.debug("condition %r did not evaluate: %s", source, exc)
        return False


def render(source: str, context: Mapping[str, Any], html: bool = False) -> str:
    try:
        return str(_compiled_template(source, html).render(**context))
    except Exception as exc:
        raise ExpressionError(f"{type(exc).__name__}: {exc}") from None


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)
