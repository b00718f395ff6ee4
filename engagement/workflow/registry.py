"""What YAML may name: actions, choice sets and mail templates, registered from Python.

YAML never names arbitrary Python: the loader resolves names here and hands the engine
callables; an unknown name is a checker error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engagement.workflow.spec import StateSpec, Text, WorkflowSpec

if TYPE_CHECKING:
    from engagement.workflow.models import WorkflowInstance


@dataclass
class ActionContext:
    """What a registered action receives: the open transaction and the instance being moved."""

    session: Session
    instance: WorkflowInstance
    data: dict[str, Any]
    actor: Any
    now: datetime
    locale: str
    params: dict[str, Any] = field(default_factory=dict)


ActionFunc = Callable[[ActionContext], None]
ChoiceProvider = Callable[[Session | None, str], list[tuple[str, Text]]]


@dataclass(frozen=True)
class ActionDef:
    func: ActionFunc
    provides: frozenset[str] = frozenset()  # data keys the action fills (expressions may read them)


FieldCheck = Callable[[Session, Any], str | None]  # (session, value) -> a rule broken, or None


@dataclass(frozen=True)
class ValidatorDef:
    func: FieldCheck
    rules: frozenset[str] = frozenset()  # the rule names it may return (YAML `messages` may word them)


@dataclass(frozen=True)
class Submission:
    """A step's validated answers, accepted: what ``on_submit`` hooks receive (in the step's transaction)."""

    session: Session
    spec: WorkflowSpec
    instance: WorkflowInstance
    state: StateSpec  # the step the answers were given on
    answers: dict[str, Any]  # as recorded; a field hidden by its condition is None
    actor: Any
    now: datetime
    locale: str


SubmitHook = Callable[[Submission], None]


@dataclass(frozen=True)
class Referrals:
    """How analytics tell instances that came through a referral (an invitation's join link) from direct ones.

    ``key``: the answer an instance started from a referral carries (the referral's id, an integer);
    ``counts(session, where)``: the referrals the instances ``where`` selects sent, and how many were followed
    (``{"sent": n, "joined": m}``).
    """

    key: str
    counts: Callable[[Session, Sequence[Any]], dict[str, int]]


NO_REFERRALS = Referrals("", lambda _session, _where: {"sent": 0, "joined": 0})


@dataclass
class Registry:
    """Name -> callable tables; domain packages register into the default one at import."""

    actions: dict[str, ActionDef] = field(default_factory=dict)
    choices: dict[str, ChoiceProvider] = field(default_factory=dict)
    validators: dict[str, ValidatorDef] = field(default_factory=dict)
    mail_templates: Callable[[], Set[str]] = frozenset
    submitted: list[SubmitHook] = field(default_factory=list)  # run on every step submitted with answers
    opt_ins: set[str] = field(default_factory=set)  # boolean fields by these names are consents: never pre-ticked
    referrals: Referrals = NO_REFERRALS  # what the domain that refers people registers (the invitations)
    # Who receives the engine's alerts (instances stuck past their sla): addresses, in a stable order.
    alert_recipients: Callable[[Session], list[str]] = lambda _session: []

    def action(self, name: str, provides: tuple[str, ...] = ()) -> Callable[[ActionFunc], ActionFunc]:
        def register(func: ActionFunc) -> ActionFunc:
            self.actions[name] = ActionDef(func, frozenset(provides))
            return func

        return register

    def field_validator(self, name: str, rules: tuple[str, ...]) -> Callable[[FieldCheck], FieldCheck]:
        """Register a server-side check that YAML fields name in ``validate:``."""

        def register(func: FieldCheck) -> FieldCheck:
            self.validators[name] = ValidatorDef(func, frozenset(rules))
            return func

        return register

    def on_submit(self, hook: SubmitHook) -> SubmitHook:
        """Register a hook run whenever a step's answers are accepted, for every workflow (consent records)."""
        if hook not in self.submitted:
            self.submitted.append(hook)
        return hook

    def choice_set(self, name: str) -> Callable[[ChoiceProvider], ChoiceProvider]:
        def register(func: ChoiceProvider) -> ChoiceProvider:
            self.choices[name] = func
            return func

        return register


REGISTRY = Registry()
