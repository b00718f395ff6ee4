"""The built-in actions (``mail``, ``set``) and the dispatch to registered ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engagement.expressions import Answers, evaluate, is_template, render
from engagement.mail import service as mail
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import ActionContext, Registry
from engagement.workflow.spec import ActionSpec, WorkflowSpec

if TYPE_CHECKING:
    from engagement.workflow.machine import Subject
    from engagement.workflow.models import WorkflowInstance


@dataclass(frozen=True)
class UserView:
    """What expressions may read of the acting user."""

    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    is_authenticated: bool = True


Throttle = Callable[[str, str], int | None]
"""(limit such as "10 per hour", scope) -> None when allowed, else seconds to wait; the caller knows who asks."""


@dataclass
class FiringContext:
    """Everything one request's firing needs; built by the runtime, read by actions and guards."""

    session: Session
    spec: WorkflowSpec
    instance: WorkflowInstance
    actor: Any
    now: datetime
    locale: str
    throttle: Throttle | None = None  # None: no rate limits (the command line, tests of the engine)

    def expression_context(self, subject: Subject) -> dict[str, Any]:
        return expression_context(self.spec, self.instance, subject.state, subject.data, self.actor, self.now)


def expression_context(spec: WorkflowSpec, instance: WorkflowInstance, state: str,
                       data: dict[str, Any], actor: Any, now: datetime) -> dict[str, Any]:
    """The names conditions and templates see: ``data``, ``user``, ``now`` and ``instance``."""
    user = None
    if actor is not None:
        user = UserView(actor.id, actor.email, actor.first_name, actor.last_name, actor.role)
    return {
        "data": Answers(typed(spec, data)),
        "user": user,
        "now": now,
        "instance": {"id": instance.id, "state": state, "version": instance.version,
                     "started_at": instance.started_at},
    }


def typed(spec: WorkflowSpec, data: dict[str, Any]) -> dict[str, Any]:
    """Answers as expressions see them: dates as dates, decimals as decimals, unanswered as None."""
    result = dict.fromkeys(spec.fields)
    result.update(data)
    for name, field in spec.fields.items():
        value = result.get(name)
        if not isinstance(value, str) or not value:
            continue
        try:
            if field.type == "date":
                result[name] = date.fromisoformat(value)
            elif field.type == "decimal":
                result[name] = Decimal(value)
        except (ValueError, ArithmeticError):  # decimal.InvalidOperation: "abc" from a studio preview's page
            pass
    return result


def jsonable(value: Any) -> Any:
    """A value as stored in the instance's JSON answers."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):  # composite answers (address parts)
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def run(spec: ActionSpec, subject: Subject, registry: Registry) -> None:
    context = subject.context
    if spec.kind == "set":
        expr_context = context.expression_context(subject)
        for key, value in spec.params.items():
            subject.data[key] = jsonable(evaluate(value, expr_context) if isinstance(value, str) else value)
    elif spec.kind == "mail":
        _mail(spec.params, subject)
    else:
        registry.actions[spec.name].func(ActionContext(
            session=context.session, instance=context.instance, data=subject.data,
            actor=context.actor, now=context.now, locale=context.locale, params=spec.params,
        ))


def _recipients(value: Any, expr_context: dict[str, Any]) -> list[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return [render(v, expr_context) if is_template(v) else v for v in values]


def _check_answered(values: list[str], data: dict[str, Any]) -> None:
    """An address the visitor typed that no mail reaches refuses the step: they correct it, nothing is kept.
    (One that comes from elsewhere, an account's, only keeps its message from being composed.)"""
    answers = {value.strip() for value in data.values() if isinstance(value, str)}
    for value in values:
        try:
            if value.strip() in answers and not mail.clean_addresses([value]):
                raise mail.AddressError("a mail needs at least one recipient")
        except mail.AddressError as exc:
            raise WorkflowError("invalid_recipient", str(exc)) from None


def _mail(params: dict[str, Any], subject: Subject) -> None:
    context = subject.context
    expr_context = context.expression_context(subject)
    reply_to = _recipients(params.get("reply_to"), expr_context)
    from_name, unsubscribe = (_recipients(params.get(key), expr_context) for key in ("from_name", "list_unsubscribe"))
    to, cc = _recipients(params["to"], expr_context), _recipients(params.get("cc"), expr_context)
    _check_answered([*to, *cc, *reply_to], subject.data)
    mail.compose(  # anything else that keeps this one message from being composed is logged, the step goes on
        context.session, to=to, cc=cc, reply_to=reply_to[0] if reply_to else None,
        template=params.get("template"), subject=params.get("subject"), body=params.get("body"),
        context=expr_context, locale=context.locale, sender_name=from_name[0] if from_name else None,
        unsubscribe=unsubscribe[0] if unsubscribe else None,
    )
