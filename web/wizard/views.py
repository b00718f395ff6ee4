"""The generic wizard: one page per workflow step, driven by the engine (PRG, CSRF, replay-safe)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engagement.db import transaction, utcnow
from engagement.workflow import definitions, runtime
from engagement.workflow.errors import WorkflowError
from engagement.workflow.expressions import ExpressionError, render
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import localize
from forms.step import StepForm, build, initially_shown
from web.api.views import city_options
from web.db import db, sessions
from web.limits import spend
from web.locale import current_locale
from web.resilience import needs_session
from web.wizard.presenter import button_label, error_summary, refusal_message

bp = Blueprint("wizard", __name__, url_prefix="/w")
log = logging.getLogger(__name__)


class Refused(Exception):
    """Leave the transaction (rolling it back) with a page already rendered."""

    def __init__(self, response: Any) -> None:
        super().__init__("refused")
        self.response = response


SESSION_KEY = "wf"


_locale = current_locale


def _actor() -> Any:
    return current_user if current_user.is_authenticated else None


def _active_or_404(workflow_id: str) -> CompiledWorkflow:
    flow = definitions.active(db(), workflow_id)
    if flow is None:
        abort(404)
    access = flow.spec.access
    if access != "public" and not current_user.is_authenticated:
        abort(redirect(url_for("auth.login", next=request.path)))
    if access == "organizer" and current_user.role not in ("organizer", "admin"):
        abort(403)
    return flow


def _pointer(workflow_id: str) -> int | None:
    return (session.get(SESSION_KEY) or {}).get(workflow_id)


def _remember(workflow_id: str, instance_id: int | None) -> None:
    if _pointer(workflow_id) == instance_id:
        return  # unchanged: the session is not written again
    pointers = dict(session.get(SESSION_KEY) or {})
    if instance_id is None:
        pointers.pop(workflow_id, None)
    else:
        pointers[workflow_id] = instance_id
    session[SESSION_KEY] = pointers


def _owned(instance: WorkflowInstance | None, workflow_id: str) -> WorkflowInstance | None:
    if instance is None or instance.workflow_id != workflow_id or instance.abandoned_at is not None:
        return None
    if instance.actor_id is not None and (not current_user.is_authenticated or instance.actor_id != current_user.id):
        # Someone else's answers stay private; a finished one only shows its closing page, no answers.
        return instance if instance.is_completed else None
    return instance


def _current(dbs: Session, workflow_id: str) -> WorkflowInstance | None:
    """The visitor's instance: the one this browser holds, else (logged in) their latest unfinished one."""
    instance_id = _pointer(workflow_id)
    found = _owned(dbs.get(WorkflowInstance, instance_id), workflow_id) if instance_id else None
    if found is None and current_user.is_authenticated:
        found = runtime.find_resumable(dbs, workflow_id, current_user.id)
    return found


def _choices(name: str, locale: str) -> list[tuple[str, str]]:
    return [(key, localize(text, locale)) for key, text in REGISTRY.choices[name](db(), locale)]


def _form(flow: CompiledWorkflow, instance: WorkflowInstance, formdata: Any = None) -> StepForm:
    actor, now = _actor(), utcnow()

    def context(pending: dict[str, Any]) -> dict[str, Any]:
        return runtime.condition_context(flow, instance, pending, actor, now)

    return build(flow, instance.state, _locale(), _choices, context, initial=instance.data,
                 step=instance.lock_version, formdata=formdata, cities=city_options, checks=_check)


def _check(name: str, value: Any) -> str | None:
    return REGISTRY.validators[name].func(db(), value)


def _start(flow: CompiledWorkflow) -> WorkflowInstance:
    with transaction(sessions()) as dbs:
        instance = runtime.start(dbs, flow, actor=_actor(), now=utcnow(), locale=_locale(), throttle=spend)
    _remember(flow.spec.id, instance.id)
    return instance


def open_with(flow: CompiledWorkflow, data: dict[str, Any], about: str | None = None) -> None:
    """Open ``flow`` for this visitor carrying ``data``; an instance in progress keeps its answers.

    With ``about`` (an answer's name), an instance in progress about something else (another event)
    is set aside and a new one starts.
    """
    with transaction(sessions()) as dbs:
        instance = _current(dbs, flow.spec.id)
        if instance is not None and about is not None and instance.data.get(about) != data.get(about):
            runtime.abandon(instance, utcnow())
            instance = None
        if instance is not None and not instance.is_completed:
            runtime.annotate(instance, data, utcnow())
        else:
            instance = runtime.start(dbs, flow, actor=_actor(), now=utcnow(), locale=_locale(), data=data,
                                     throttle=spend)
    _remember(flow.spec.id, instance.id)


def _page(flow: CompiledWorkflow, instance: WorkflowInstance, form: StepForm | None = None,
          status: int = 200, notice: str | None = None) -> Any:
    state = flow.spec.states[instance.state]
    locale = _locale()
    subtitle = _subtitle(flow, instance, locale)
    if state.final:
        body = render_template("wizard/final.html", flow=flow.spec, state=state, instance=instance, locale=locale,
                               subtitle=subtitle)
        return body, status, {"Cache-Control": "no-store"}
    form = form or _form(flow, instance)
    body = render_template(
        "wizard/step.html", flow=flow.spec, state=state, instance=instance, form=form, locale=locale,
        subtitle=subtitle,
        shown=initially_shown(form), errors=error_summary(form), notice=notice,
        triggers=[(t, button_label(flow.spec, state.name, t, locale)) for t in flow.spec.triggers_from(state.name)],
        can_go_back=bool(instance.history) and state.allow_back,
        can_restart=bool(instance.history or instance.data),
    )
    return body, status, {"Cache-Control": "no-store"}


def _subtitle(flow: CompiledWorkflow, instance: WorkflowInstance, locale: str) -> str:
    """The workflow's ``subtitle`` rendered over the answers (an event's name, say); empty if it cannot be."""
    source = localize(flow.spec.subtitle, locale)
    if not source:
        return ""
    try:
        return render(source, runtime.condition_context(flow, instance, {}, _actor(), utcnow())).strip()
    except ExpressionError:
        return ""


@bp.get("/<workflow_id>")
@needs_session  # it remembers the visitor's instance there: without it every visit would start a new one
def show(workflow_id: str) -> Any:
    flow = _active_or_404(workflow_id)
    instance = _current(db(), workflow_id)
    if instance is None and flow.spec.inputs:  # it opens from its page (an event's), which gives its inputs
        message = _("This form opens from its page: an event's page, for instance.")
        return render_template("errors/error.html", code=404, message=message), 404
    if instance is None:
        try:
            instance = _start(flow)
        except WorkflowError as error:  # the workflow's first state cannot route: the file's fault
            if error.retry_after:
                page = render_template("errors/error.html", code=429, message=refusal_message(error))
                return page, 429, {"Retry-After": str(error.retry_after)}
            log.error("workflow %s cannot start: %s (%s)", workflow_id, error, error.code)
            message = _("This form cannot be started at the moment. Please try again later.")
            return render_template("errors/error.html", code=503, message=message), 503
    else:
        flow = definitions.of_instance(db(), instance)
    notice = _("This step was already sent; here is where you stand now.") if request.args.get("stale") else None
    return _page(flow, instance, notice=notice)


def _stale(workflow_id: str) -> Any:
    # No flash: writing the session here would race with the request that did succeed.
    return redirect(url_for("wizard.show", workflow_id=workflow_id, stale=1), code=303)


def _step_token() -> int:
    try:
        return int(request.form.get("step", ""))
    except ValueError:
        return -1


@bp.post("/<workflow_id>")
def submit(workflow_id: str) -> Any:
    _active_or_404(workflow_id)
    step = _step_token()
    trigger = request.form.get("trigger", "")
    try:
        with transaction(sessions()) as dbs:
            outcome = _submit(dbs, workflow_id, step, trigger)
    except StaleDataError:  # another request moved the instance first
        return _stale(workflow_id)
    except OperationalError as error:
        if not _lock_conflict(error):
            raise
        return _stale(workflow_id)
    except Refused as refused:
        return refused.response
    if isinstance(outcome, int):
        _remember(workflow_id, outcome)
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
    return outcome


def _lock_conflict(error: OperationalError) -> bool:
    """A concurrent writer won (SQLite busy, MySQL deadlock or lock wait), not a database outage."""
    code = getattr(error.orig, "args", (None,))[0]
    return code in (1205, 1213) or "database is locked" in str(error.orig)


def _submit(dbs: Session, workflow_id: str, step: int, trigger: str) -> Any:
    """Validate and fire within the caller's transaction; an int is the instance id to redirect to."""
    instance = _current(dbs, workflow_id)
    if instance is None:  # a session that never opened this wizard: show it its first page
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
    if instance.is_completed or step != instance.lock_version:
        return _stale(workflow_id)
    flow = definitions.of_instance(dbs, instance)
    form = _form(flow, instance, formdata=request.form)
    if trigger not in flow.spec.triggers_from(instance.state):
        return _page(flow, instance, form, 400, notice=_("Please use one of the buttons of the form."))
    if not form.validate():
        return _page(flow, instance, form, 422)
    try:
        runtime.submit(dbs, flow, instance, trigger=trigger, answers=form.answers(), step=step,
                       actor=_actor(), now=utcnow(), locale=_locale(), throttle=spend)
    except WorkflowError as error:
        if error.code == "stale":
            raise Refused(_stale(workflow_id)) from None
        raise Refused(_refused_page(flow, instance, form, error)) from None  # rolls back the step
    return instance.id


def _refused_page(flow: CompiledWorkflow, instance: WorkflowInstance, form: StepForm, error: WorkflowError) -> Any:
    """The step again, with the refusal next to the field it is about (or at the top)."""
    message = refusal_message(error)
    if error.field and error.field in form.specs():
        form[error.field].errors = [message]
    body, status, headers = _page(flow, instance, form, 429 if error.retry_after else 422,
                                  notice=None if error.field else message)
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return body, status, headers


def _move(workflow_id: str, back: bool) -> Any:
    _active_or_404(workflow_id)
    step = _step_token()
    try:
        with transaction(sessions()) as dbs:
            instance = _current(dbs, workflow_id)
            if instance is None:
                return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
            if back:
                flow = definitions.of_instance(dbs, instance)
                runtime.back(dbs, flow, instance, step=step, actor=_actor(), now=utcnow(),
                             keep=_typed(flow, instance))
            else:
                runtime.abandon(instance, utcnow())
    except (WorkflowError, StaleDataError):
        return _stale(workflow_id)
    except OperationalError as error:
        if not _lock_conflict(error):
            raise
        return _stale(workflow_id)
    if not back:
        _remember(workflow_id, None)
    return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)


def _typed(flow: CompiledWorkflow, instance: WorkflowInstance) -> dict[str, Any]:
    """What the step's form posted along with Back and that passes its rules (nothing if no field came)."""
    names = {f.name for f in flow.spec.states[instance.state].fields}
    if instance.is_completed or not any(key.split("-", 1)[0] in names for key in request.form):
        return {}
    form = _form(flow, instance, formdata=request.form)
    form.validate()
    return form.valid_answers()


@bp.post("/<workflow_id>/back")
def back(workflow_id: str) -> Any:
    return _move(workflow_id, back=True)


@bp.post("/<workflow_id>/restart")
def restart(workflow_id: str) -> Any:
    return _move(workflow_id, back=False)


@bp.post("/<workflow_id>/visibility")
def visibility(workflow_id: str) -> Any:
    """Which conditional fields of the current step show, given the values typed so far (for the script)."""
    _active_or_404(workflow_id)
    instance = _current(db(), workflow_id)
    if instance is None or instance.is_completed:
        return jsonify(visible=[], hidden=[])
    flow = definitions.of_instance(db(), instance)
    form = _form(flow, instance, formdata=request.form)
    shown = {name: form.is_visible(name) for name in form.conditional}
    return jsonify(visible=[n for n, on in shown.items() if on], hidden=[n for n, on in shown.items() if not on])
