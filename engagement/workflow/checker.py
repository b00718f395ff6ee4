"""Validation of workflow files: every rejection of the contract, each with file:line:column."""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any

from limits import parse_many

from engagement.i18n import N_, Phrase
from engagement.workflow.expressions import (
    CONTEXT_NAMES,
    ExpressionError,
    parse_expression,
    parse_template,
    referenced,
)
from engagement.workflow.fieldcheck import FieldChecker
from engagement.workflow.labels import missing_labels
from engagement.workflow.loader import Diagnostic, LoadError, Located, Path, load_text
from engagement.workflow.registry import REGISTRY, Registry
from engagement.workflow.spec import (
    ACCESS_LEVELS,
    ActionSpec,
    FieldSpec,
    StateSpec,
    Text,
    TransitionSpec,
    WorkflowSpec,
)

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
LOCALES = ("fr", "en")
TOP_KEYS = {"id", "version", "title", "description", "subtitle", "inputs", "access", "initial", "states",
            "transitions", "migrate_from"}
STATE_KEYS = {"title", "help", "fields", "final", "on_enter", "on_exit", "allow_back", "automatic", "sla",
              "review"}
SLA = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")  # `sla: 48h`: an integer and a unit
SLA_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TRANSITION_KEYS = {"trigger", "source", "dest", "conditions", "unless", "actions", "label", "rate_limit",
                   "validate"}
ZERO_PERIOD = re.compile(r"(?:^|[/\s])0+\s*[a-z]", re.I)  # "per 0 hours" would silently mean per hour
SINGLE_MAIL_KEYS = ("reply_to", "subject", "body", "from_name", "list_unsubscribe")
MAIL_KEYS = {"template", "subject", "body", "to", "cc", "reply_to", "from_name", "list_unsubscribe"}
NOT_PARSED = {"expression": N_("expression does not parse: %(error)s"),
              "template": N_("template does not parse: %(error)s")}
UNKNOWN_FIELD = {"expression": N_("expression reads unknown field %(name)r"),
                 "template": N_("template reads unknown field %(name)r")}
# Names the runtime's instance object (and transitions' generated helpers) already use.
RESERVED = frozenset({
    "id", "state", "data", "trigger", "machine", "instance", "version", "workflow_id", "actor",
    "actor_id", "completed", "is_completed", "history", "lock_version", "metadata", "registry",
    "started_at", "updated_at", "completed_at", "transitions", "user", "now", "csrf_token", "step",
    "may_trigger", "get_triggers", "to_state", "query", "session",
    "back", "restart",  # the wizard's own navigation, logged under these names
})


class Checker:
    """Checks one located document; ``spec`` is built only when no error was found."""

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

    # -- the document ---------------------------------------------------------
    def check(self) -> WorkflowSpec | None:
        doc, root = self.loc.data, ()
        if not self.keys(doc, root, TOP_KEYS, Phrase(N_("a workflow"))):
            return None
        for required in ("id", "version", "initial", "states", "transitions"):
            if required not in doc:
                self.error(root, N_("missing required key %(name)r"), name=required)
        workflow_id = self.name(doc.get("id"), ("id",), N_("id")) if "id" in doc else None
        version = doc.get("version")
        if "version" in doc and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
            self.error(("version",), N_("version must be an integer >= 1"))
        access = doc.get("access", "public")
        if access not in ACCESS_LEVELS:
            self.error(("access",), N_("access must be one of %(allowed)s"), allowed=", ".join(ACCESS_LEVELS))
        inputs = self.inputs(doc.get("inputs"), ("inputs",))
        subtitle = self.text(doc.get("subtitle"), ("subtitle",))
        for locale, source in subtitle.items():
            self.deferred.append((("subtitle",) if locale == "*" else ("subtitle", locale), source, "template"))
        states = self.states(doc.get("states"), ("states",))
        transitions = self.transitions(doc.get("transitions"), ("transitions",), states)
        migrate_from = self.migrate_from(doc.get("migrate_from"), ("migrate_from",), version, states)
        initial = doc.get("initial")
        if "initial" in doc and initial not in states:
            self.error(("initial",), N_("initial state %(state)r is not a declared state"), state=initial)
        if states and initial in states:
            self.graph(states, transitions, initial)
        self.check_deferred()
        if self.diagnostics or workflow_id is None:
            return None
        return WorkflowSpec(
            id=workflow_id, version=version, initial=initial, states=states,
            transitions=tuple(transitions), title=self.text(doc.get("title"), ("title",)),
            description=self.text(doc.get("description"), ("description",)), access=access,
            subtitle=subtitle, inputs=inputs, migrate_from=migrate_from,
        )

    def migrate_from(self, node: Any, path: Path, version: Any,
                     states: dict[str, StateSpec]) -> dict[int, dict[str, str]]:
        """``{old version: {old state: new state}}``: where live instances of older versions move."""
        if node is None:
            return {}
        if not isinstance(node, dict) or not node:
            self.error(path, N_("migrate_from must be a mapping {old version: {old state: new state}}"))
            return {}
        result: dict[int, dict[str, str]] = {}
        for old, mapping in node.items():
            number = int(old) if str(old).isdigit() else None
            if number is None or number < 1 or (isinstance(version, int) and number >= version):
                self.error((*path, old), N_("migrate_from key %(old)r is not an older version "
                                            "(a positive integer below version %(version)s)"), key=True,
                           old=old, version=version)
                continue
            if not isinstance(mapping, dict) or not mapping:
                self.error((*path, old), N_("a migration is a mapping {old state: new state}"))
                continue
            result[number] = {}
            for source, dest in mapping.items():
                if self.name(source, (*path, old, source), N_("old state"), key=True) is None:
                    continue
                if not isinstance(dest, str) or dest not in states:
                    self.error((*path, old, source), N_("migration target %(state)r is not a state of this file"),
                               state=dest)
                elif states[dest].automatic:
                    self.error((*path, old, source), N_("migration target %(state)r is automatic: "
                                                        "an instance cannot wait there"), state=dest)
                else:
                    result[number][source] = dest
        return result

    def inputs(self, node: Any, path: Path) -> tuple[str, ...]:
        """Answers the page that opens the workflow provides (an event's slug, say): names only."""
        if node is None:
            return ()
        if not isinstance(node, list):
            self.error(path, N_("inputs must be a list of names"))
            return ()
        names = tuple(n for i, item in enumerate(node) if (n := self.name(item, (*path, i), N_("input"), RESERVED)))
        self.data_keys |= set(names)
        return names

    def states(self, node: Any, path: Path) -> dict[str, StateSpec]:
        if not isinstance(node, dict) or not node:
            if node is not None:
                self.error(path, N_("states must be a non-empty mapping"))
            return {}
        states = {}
        for name, body in node.items():
            state_path = (*path, name)
            checked = self.name(name, state_path, N_("state name"), RESERVED, key=True)
            body = {} if body is None else body
            what = Phrase(N_("state %(state)r"), {"state": name})
            if not self.keys(body, state_path, STATE_KEYS, what) or checked is None:
                continue
            fields = tuple(self.fields(body.get("fields"), (*state_path, "fields")))
            states[name] = StateSpec(
                name=name, title=self.text(body.get("title"), (*state_path, "title")),
                help=self.text(body.get("help"), (*state_path, "help")), fields=fields,
                final=self.boolean(body, "final", state_path, False),
                on_enter=self.actions(body.get("on_enter"), (*state_path, "on_enter")),
                on_exit=self.actions(body.get("on_exit"), (*state_path, "on_exit")),
                allow_back=self.boolean(body, "allow_back", state_path, True),
                page=not self.boolean(body, "automatic", state_path, True),
                sla_seconds=self.sla(body, state_path),
                review=self.boolean(body, "review", state_path, False),
            )
            if states[name].final and fields:
                self.error((*state_path, "fields"), N_("final state %(state)r cannot have fields"), state=name)
            if "automatic" in body and (fields or states[name].final):
                self.error((*state_path, "automatic"), N_("only a state without fields, not final, takes automatic"))
            if states[name].review and (states[name].final or any(f.type != "consent" for f in fields)):
                self.error((*state_path, "review"), N_("review state %(state)r cannot be final nor have fields "
                                                       "other than consent boxes"), state=name)
            if "sla" in body and states[name].final:
                self.error((*state_path, "sla"), N_("final state %(state)r cannot have an sla (nobody waits there)"),
                           state=name)
        return states

    def sla(self, body: dict[str, Any], path: Path) -> int | None:
        """``sla: 48h``: seconds after which an instance still in the state is stuck (s, m, h or d)."""
        if "sla" not in body:
            return None
        match = SLA.match(body["sla"]) if isinstance(body["sla"], str) else None
        if match is None:
            self.error((*path, "sla"), N_("sla must be a positive integer and a unit s, m, h or d (like 48h), "
                                          "got %(value)r"), value=body["sla"])
            return None
        return int(match[1]) * SLA_UNITS[match[2]]

    def fields(self, node: Any, path: Path) -> Iterable[FieldSpec]:
        if node is None:
            return
        if not isinstance(node, list):
            self.error(path, N_("fields must be a list"))
            return
        for i, body in enumerate(node):
            spec = self.field_checker.field(body, (*path, i))
            if spec is not None:
                yield spec

    def actions(self, node: Any, path: Path) -> tuple[ActionSpec, ...]:
        if node is None:
            return ()
        if not isinstance(node, list):
            self.error(path, N_("actions must be a list"))
            return ()
        return tuple(a for i, item in enumerate(node) if (a := self.action(item, (*path, i))))

    def action(self, item: Any, path: Path) -> ActionSpec | None:
        if isinstance(item, str):
            definition = self.registry.actions.get(item)
            if definition is None:
                self.error(path, N_("unknown action %(action)r"), action=item)
                return None
            self.data_keys |= definition.provides
            return ActionSpec("call", item)
        if not isinstance(item, dict) or len(item) != 1:
            self.error(path, N_("an action is a registered name, {mail: {...}} or {set: {...}}"))
            return None
        kind, params = next(iter(item.items()))
        if kind == "set":
            return self.set_action(params, (*path, "set"))
        if kind == "mail":
            return self.mail_action(params, (*path, "mail"))
        self.error((*path, kind), N_("unknown action %(action)r"), key=True, action=kind)
        return None

    def set_action(self, params: Any, path: Path) -> ActionSpec | None:
        if not isinstance(params, dict) or not params:
            self.error(path, N_("set takes a mapping key -> expression"))
            return None
        for key, expr in params.items():
            if self.name(key, (*path, key), N_("set key"), RESERVED, key=True):
                self.data_keys.add(key)
            if isinstance(expr, str):
                self.deferred.append(((*path, key), expr, "expression"))
        return ActionSpec("set", params=dict(params))

    def mail_action(self, params: Any, path: Path) -> ActionSpec | None:
        if not self.keys(params, path, MAIL_KEYS, Phrase(N_("a mail action"))):
            return None
        if "to" not in params:
            self.error(path, N_("a mail action needs 'to'"))
        template = params.get("template")
        if template is not None and template not in self.registry.mail_templates():
            self.error((*path, "template"), N_("unknown mail template %(template)r"), template=template)
        inline = "subject" in params and "body" in params
        if (template is None) != inline:
            self.error(path, N_("a mail action takes either template or both subject and body"))
        for key in ("to", "cc", *SINGLE_MAIL_KEYS):
            values = params.get(key)
            if key in SINGLE_MAIL_KEYS and isinstance(values, list):
                self.error((*path, key), N_("%(name)s takes one text, not a list"), name=key)
                continue
            for i, value in enumerate(values if isinstance(values, list) else [values]):
                if value is None:
                    continue
                where = (*path, key, i) if isinstance(values, list) else (*path, key)
                if not isinstance(value, str):
                    self.error(where, N_("%(name)s must be text"), name=key)
                    continue
                self.deferred.append((where, value, "template"))
        return ActionSpec("mail", params=dict(params))

    def transitions(self, node: Any, path: Path, states: dict[str, StateSpec]) -> list[TransitionSpec]:
        if not isinstance(node, list):
            if node is not None:
                self.error(path, N_("transitions must be a list"))
            return []
        result = []
        for i, body in enumerate(node):
            spec = self.transition(body, (*path, i), states)
            if spec is not None:
                result.append(spec)
        return result

    def transition(self, body: Any, path: Path, states: dict[str, StateSpec]) -> TransitionSpec | None:
        if not self.keys(body, path, TRANSITION_KEYS, Phrase(N_("a transition"))):
            return None
        for required in ("trigger", "source", "dest"):
            if required not in body:
                self.error(path, N_("a transition needs %(name)r"), name=required)
        trigger = self.name(body.get("trigger"), (*path, "trigger"), N_("trigger"), RESERVED)
        dest = body.get("dest")
        if "dest" in body and dest not in states:
            self.error((*path, "dest"), N_("unknown state %(state)r"), state=dest)
        sources = self.sources(body.get("source"), (*path, "source"), states)
        conditions = self.expressions(body.get("conditions"), (*path, "conditions"))
        unless = self.expressions(body.get("unless"), (*path, "unless"))
        actions = self.actions(body.get("actions"), (*path, "actions"))
        rate_limit = self.rate_limit(body.get("rate_limit"), (*path, "rate_limit"))
        if trigger is None or dest not in states or not sources:
            return None
        return TransitionSpec(trigger, sources, dest, conditions, unless, actions,
                              self.text(body.get("label"), (*path, "label")), rate_limit,
                              validate=self.boolean(body, "validate", path, True))

    def rate_limit(self, node: Any, path: Path) -> str | None:
        """``"10 per hour"`` or several separated by ``;`` (the `limits` library's notation)."""
        if node is None:
            return None
        try:
            if not isinstance(node, str) or ZERO_PERIOD.search(node):
                raise ValueError(node)
            if any(item.amount < 1 for item in parse_many(node)):
                raise ValueError(node)
        except ValueError:
            self.error(path, N_("rate_limit must read like '10 per hour' or '5 per minute; 50 per day'"))
            return None
        return node

    def sources(self, node: Any, path: Path, states: dict[str, StateSpec]) -> tuple[str, ...]:
        if node == "*":
            return tuple(name for name, state in states.items() if not state.final)
        items = node if isinstance(node, list) else [node]
        result = []
        for i, source in enumerate(items):
            where = (*path, i) if isinstance(node, list) else path
            if source not in states:
                self.error(where, N_("unknown state %(state)r"), state=source)
            elif states[source].final:
                self.error(where, N_("transition out of final state %(state)r"), state=source)
            else:
                result.append(source)
        return tuple(result)

    def graph(self, states: dict[str, StateSpec], transitions: list[TransitionSpec], initial: str) -> None:
        edges: dict[str, set[str]] = {name: set() for name in states}
        for transition in transitions:
            for source in transition.sources:
                edges[source].add(transition.dest)
        if not any(state.final for state in states.values()):
            self.error(("states",), N_("no final state: the workflow can never complete"))
        reachable = _closure({initial}, edges)
        reverse: dict[str, set[str]] = {name: set() for name in states}
        for source, dests in edges.items():
            for dest in dests:
                reverse[dest].add(source)
        finishing = _closure({n for n, s in states.items() if s.final}, reverse)
        for name, state in states.items():
            if name not in reachable:
                self.error(("states", name), N_("state %(state)r is unreachable from %(initial)r"), key=True,
                           state=name, initial=initial)
            elif not state.final and not edges[name]:
                self.error(("states", name), N_("non-final state %(state)r is a dead end"), key=True, state=name)
            elif name not in finishing:
                self.error(("states", name), N_("no final state can be reached from %(state)r"), key=True,
                           state=name)

    def check_deferred(self) -> None:
        for path, source, kind in self.deferred:
            try:
                ast = parse_expression(source) if kind == "expression" else parse_template(source)
            except ExpressionError as exc:
                self.error(path, NOT_PARSED[kind], error=exc.phrase)
                continue
            names, data_keys, problems = referenced(ast)
            for problem in problems:
                self.error(path, problem)
            for unknown in sorted(names - CONTEXT_NAMES):
                self.error(path, N_("unknown name %(name)r (use data, user, now or instance)"), name=unknown)
            for unknown in sorted(data_keys - self.data_keys):
                self.error(path, UNKNOWN_FIELD[kind], name=unknown)


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def check_text(text: str, path: str, registry: Registry = REGISTRY) -> tuple[WorkflowSpec | None, list[Diagnostic]]:
    """Check one file's text; returns the compiled spec (or None) and every diagnostic."""
    try:
        located = load_text(text)
    except LoadError as exc:
        return None, [Diagnostic.of(path, exc.line, exc.column, exc.phrase)]
    checker = Checker(located, path, registry)
    spec = checker.check()
    if spec is not None:  # a sound file: now the texts a person reads (their paths hold, every part was kept)
        for where, key, message in missing_labels(spec):
            checker.error(where, message, key=key)
        spec = None if checker.diagnostics else spec
    if spec is not None:
        checksum = hashlib.sha256(text.encode()).hexdigest()
        spec = WorkflowSpec(**{**spec.__dict__, "checksum": checksum})
    return spec, sorted(checker.diagnostics, key=lambda d: (d.line, d.column))


CheckedFile = tuple[FsPath, str, WorkflowSpec]


def check_files(paths: Iterable[FsPath], registry: Registry = REGISTRY) -> tuple[list[CheckedFile], list[Diagnostic]]:
    """Check many files, also refusing two files that declare one id; returns the valid ones."""
    specs: list[CheckedFile] = []
    diagnostics: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            unread = Phrase(N_("cannot read file: %(error)s"), {"error": exc})
            diagnostics.append(Diagnostic.of(str(path), 1, 1, unread))
            continue
        spec, found = check_text(text, str(path), registry)
        diagnostics.extend(found)
        if spec is None:
            continue
        if spec.id in seen:
            line, column = load_text(text).where(("id",))
            message = Phrase(N_("id %(id)r is already declared in %(path)s"), {"id": spec.id, "path": seen[spec.id]})
            diagnostics.append(Diagnostic.of(str(path), line, column, message))
            continue
        seen[spec.id] = str(path)
        specs.append((path, text, spec))
    return specs, diagnostics
