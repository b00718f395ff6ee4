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
from werkzeug.datastructures import MultiDict

from engagement.db import transaction, utcnow
from engagement.expressions import ExpressionError, render
from engagement.geo.postal import city_options
from engagement.workflow import definitions, navigation, persistence, runtime
from engagement.workflow.errors import WorkflowError
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import localize
from forms.messages import selection_hint
from forms.step import StepForm, build, initially_shown
from web import notices
from web.db import db, sessions
from web.limits import spend
from web.locale import current_locale
from web.resilience import needs_session
from web.wizard import finals, notes
from web.wizard.presenter import button_label, error_summary, refusal_message
from web.wizard.review import review_sections

bp = Blueprint("wizard", __name__, url_prefix="/w")
bp.add_app_template_global(selection_hint)  # wizard/_fields.html: "Choose 2 answers" above the boxes
log = logging.getLogger(__name__)


class Refused(Exception):
    """Leave the transaction (rolling it back) with a page already rendered."""

    def __init__(self, response: Any) -> None:
        super().__init__("refused")
        self.response = response


SESSION_KEY = "wf"


_locale = current_locale


def _actor() -> Any:
    user = current_user._get_current_object()  # the user itself: the engine reads it without the proxy
    return user if user.is_authenticated else None


def _active_or_404(workflow_id: str, dbs: Session | None = None) -> CompiledWorkflow:
    flow = definitions.active(dbs or db(), workflow_id)
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


def forget(workflow_id: str) -> None:
    """This browser starts ``workflow_id`` afresh at its next visit; its finished instance stays as it was (a
    donor giving again, say, after a donation paid or expired)."""
    _remember(workflow_id, None)


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
    found = _owned(persistence.load(dbs, instance_id), workflow_id) if instance_id else None
    if found is None and current_user.is_authenticated:
        found = runtime.find_resumable(dbs, workflow_id, current_user.id)
    return found


def _choices(name: str, locale: str) -> list[tuple[str, str]]:
    return [(key, localize(text, locale)) for key, text in REGISTRY.choices[name](db(), locale)]


_ASK = object()  # _form's actor and locale: looked up unless the caller has them already


def _form(flow: CompiledWorkflow, instance: WorkflowInstance, formdata: Any = None,
          state: str | None = None, actor: Any = _ASK, locale: str | None = None) -> StepForm:
    """The form of ``state`` (the current step by default): posted, or prefilled from the answers (and draft)."""
    actor, now, state = _actor() if actor is _ASK else actor, utcnow(), state or instance.state

    def context(pending: dict[str, Any]) -> dict[str, Any]:
        return runtime.condition_context(flow, instance, pending, actor, now, state=state)

    draft = navigation.draft_of(instance, state) if formdata is None else None
    return build(flow, state, locale or _locale(), _choices, context, initial=instance.data, step=instance.lock_version,
                 formdata=MultiDict(draft) if draft else formdata, cities=city_options, checks=_check)


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
          status: int = 200, notice: str | None = None, state_name: str | None = None) -> Any:
    """The page of ``state_name``: the current step by default, or an earlier page of the walk."""
    state = flow.spec.states[state_name or instance.state]
    locale = _locale()
    subtitle = _subtitle(flow, instance, locale)
    if state.final:
        body = finals.render(flow, instance, state, locale=locale, subtitle=subtitle)
        return body, status, {"Cache-Control": "no-store"}
    form = form or _form(flow, instance, state=state.name)
    number, steps = navigation.progress(flow, instance, state.name, _actor(), utcnow())
    pages = navigation.walk(instance)
    earlier = state.name != instance.state
    body = render_template(
        "wizard/step.html", flow=flow.spec, state=state, instance=instance, form=form, locale=locale,
        subtitle=subtitle, step_number=number, step_count=steps,
        shown=initially_shown(form), errors=error_summary(form),
        notice=notice or notes.of(flow.spec.id, state.name, instance, locale),
        triggers=[(t, button_label(flow.spec, state.name, t, locale)) for t in flow.spec.triggers_from(state.name)],
        sections=review_sections(flow, instance, state.name, locale, _actor()) if state.review else None,
        can_go_back=state.allow_back and not earlier and bool(instance.history),
        previous_page=pages[number - 2] if earlier and number > 1 and state.allow_back else None,
        can_restart=bool(instance.history or instance.data),
        privacy_notice=notices.for_step(flow.spec, state),
    )
    return body, status, {"Cache-Control": "no-store"}


def _step_url(workflow_id: str, state: str, stale: bool = False) -> Any:
    return redirect(url_for("wizard.step", workflow_id=workflow_id, state=state, **({"stale": 1} if stale else {})),
                    code=303)


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
    """The visitor's current step, at its own URL (their instance starts on the first visit)."""
    found = _opened(_active_or_404(workflow_id))
    if not isinstance(found, WorkflowInstance):
        return found
    return _step_url(workflow_id, found.state, stale=bool(request.args.get("stale")))


@bp.get("/<workflow_id>/<state>")
@needs_session
def step(workflow_id: str, state: str) -> Any:
    """A page of the walk: the current step, or an earlier one with its answers (the browser's Back).

    A first visit straight at a step's URL starts the instance as ``/w/<id>`` would (a client that keeps
    no cookie is never sent round in circles between the two).
    """
    if state in ("back", "visibility"):  # the wizard's own actions, posted only (no state takes these names)
        abort(405)
    found = _opened(_active_or_404(workflow_id))
    if not isinstance(found, WorkflowInstance):
        return found
    instance = found
    flow = definitions.of_instance(db(), instance)
    if state not in flow.spec.states or not navigation.reached(instance, state):
        return _step_url(workflow_id, instance.state)  # not reached yet (or no such step): where they stand
    notice = _("This step was already sent; here is where you stand now.") if request.args.get("stale") else None
    return _page(flow, instance, notice=notice, state_name=state)


def _opened(flow: CompiledWorkflow) -> Any:
    """The visitor's instance, started on the first visit; else the page saying why it cannot start."""
    instance = _current(db(), flow.spec.id)
    if instance is not None:
        return instance
    if flow.spec.inputs:  # it opens from its page (an event's), which gives its inputs
        message = _("This form opens from its page: an event's page, for instance.")
        return render_template("errors/error.html", code=404, message=message), 404
    try:
        return _start(flow)
    except WorkflowError as error:  # the workflow's first state cannot route: the file's fault
        if error.retry_after:
            page = render_template("errors/error.html", code=429, message=refusal_message(error))
            return page, 429, {"Retry-After": str(error.retry_after)}
        log.error("workflow %s cannot start: %s (%s)", flow.spec.id, error, error.code)
        message = _("This form cannot be started at the moment. Please try again later.")
        return render_template("errors/error.html", code=503, message=message), 503


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
    """Submit the current step."""
    return _submission(workflow_id, None)


@bp.post("/<workflow_id>/<state>")
def submit_step(workflow_id: str, state: str) -> Any:
    """Submit one page of the walk: the current step, or an earlier one whose answers change."""
    return _submission(workflow_id, state)


def _submission(workflow_id: str, state: str | None) -> Any:
    step = _step_token()
    trigger = request.form.get("trigger", "")
    try:
        with transaction(sessions()) as dbs:  # the request's one database session (no reading one beside it)
            _active_or_404(workflow_id, dbs)
            outcome = _submit(dbs, workflow_id, state, step, trigger)
    except StaleDataError:  # another request moved the instance first
        return _stale(workflow_id)
    except OperationalError as error:
        if not _lock_conflict(error):
            raise
        return _stale(workflow_id)
    except Refused as refused:
        return refused.response
    if isinstance(outcome, WorkflowInstance):
        _remember(workflow_id, outcome.id)
        return _step_url(workflow_id, outcome.state)
    return outcome


def _lock_conflict(error: OperationalError) -> bool:
    """A concurrent writer won (SQLite busy, MySQL deadlock or lock wait), not a database outage."""
    code = getattr(error.orig, "args", (None,))[0]
    return code in (1205, 1213) or "database is locked" in str(error.orig)


def _submit(dbs: Session, workflow_id: str, state: str | None, step: int, trigger: str) -> Any:
    """Validate and fire within the caller's transaction; the instance once moved, else a response."""
    instance = _current(dbs, workflow_id)
    if instance is None:  # a session that never opened this wizard: show it its first page
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
    if instance.is_completed or step != instance.lock_version:
        return _stale(workflow_id)
    flow = definitions.of_instance(dbs, instance)
    state = state or instance.state
    if state not in flow.spec.states or not navigation.reached(instance, state):
        return _step_url(workflow_id, instance.state)
    actor, locale = _actor(), _locale()  # once a request (each is a lookup through Flask's context locals)
    form = _form(flow, instance, formdata=request.form, state=state, actor=actor, locale=locale)
    if trigger not in flow.spec.triggers_from(state):
        return _page(flow, instance, form, 400, notice=_("Please use one of the buttons of the form."),
                     state_name=state)
    unvalidated = navigation.is_unvalidated(flow.spec, state, trigger)
    if not unvalidated and not form.validate():
        # nothing wrong yet still to answer (a commune to choose among those of its postal code): 200
        return _page(flow, instance, form, 422 if form.errors else 200, state_name=state)
    now = utcnow()
    try:
        before = navigation.revisit(dbs, flow, instance, state, actor=actor, now=now)
        if unvalidated:
            navigation.leave_unvalidated(dbs, flow, instance, trigger, _typed_on(flow, state), step=step,
                                         actor=actor, now=now, locale=locale, throttle=spend)
        else:
            runtime.submit(dbs, flow, instance, trigger=trigger, answers=form.answers(), step=step,
                           actor=actor, now=now, locale=locale, throttle=spend)
            navigation.return_to_review(dbs, flow, instance, before, state, actor=actor, now=now, locale=locale,
                                        throttle=spend)
    except WorkflowError as error:
        if error.code == "stale":
            raise Refused(_stale(workflow_id)) from None
        raise Refused(_refused_page(flow, instance, form, error, state)) from None  # rolls back the step
    return instance


def _typed_on(flow: CompiledWorkflow, state: str) -> dict[str, list[str]]:
    """What was posted for ``state``'s fields (their parts too), passwords left out: a draft."""
    names = {f.name for f in flow.spec.states[state].fields if f.type != "password"}
    return {key: request.form.getlist(key) for key in request.form if key.split("-", 1)[0] in names}


def _refused_page(flow: CompiledWorkflow, instance: WorkflowInstance, form: StepForm, error: WorkflowError,
                  state: str) -> Any:
    """The step again, with the refusal next to the field it is about (or at the top).

    A review page's button refused about an answer given earlier (the friend's address, say) shows the
    step that asked it, with the answers given and the message next to the field: the visitor changes it
    there, and the walk comes back to the review.
    """
    message = refusal_message(error)
    asked = _asked_on(flow, instance, error.field, state)
    if asked != state:
        form, state = _form(flow, instance, state=asked), asked
    if error.field and error.field in form.specs():
        form[error.field].errors = [message]
    body, status, headers = _page(flow, instance, form, 429 if error.retry_after else 422,
                                  notice=None if error.field else message, state_name=state)
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return body, status, headers


def _asked_on(flow: CompiledWorkflow, instance: WorkflowInstance, field: str | None, state: str) -> str:
    """The latest page of the walk whose form asks ``field`` (``state`` itself when it does, or none does)."""
    pages = navigation.walk(instance)
    asking = [s for s in pages if field in {f.name for f in flow.spec.states[s].fields}] if field else []
    return state if not asking or state in asking else asking[-1]


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
                state = instance.state
            elif "step" in request.form and step != instance.lock_version:
                raise WorkflowError("stale", "the restart was confirmed from an older page")
            else:  # confirmed from the page that asked (a client may still post without a step token)
                runtime.abandon(instance, utcnow())
    except WorkflowError as error:  # nothing before the first step: where they stand, not "already sent"
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303) if error.code == "no_back" \
            else _stale(workflow_id)
    except StaleDataError:
        return _stale(workflow_id)
    except OperationalError as error:
        if not _lock_conflict(error):
            raise
        return _stale(workflow_id)
    if not back:
        _remember(workflow_id, None)
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
    return _step_url(workflow_id, state)


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


@bp.get("/<workflow_id>/restart")
def confirm_restart(workflow_id: str) -> Any:
    """Start over? A page of its own (it works without JavaScript): nothing is discarded before the answer."""
    _active_or_404(workflow_id)
    instance = _current(db(), workflow_id)
    if instance is None or instance.is_completed:
        return redirect(url_for("wizard.show", workflow_id=workflow_id), code=303)
    flow = definitions.of_instance(db(), instance)
    body = render_template("wizard/restart.html", flow=flow.spec, instance=instance)
    return body, 200, {"Cache-Control": "no-store"}


@bp.post("/<workflow_id>/restart")
def restart(workflow_id: str) -> Any:
    return _move(workflow_id, back=False)


@bp.post("/<workflow_id>/visibility")
def visibility(workflow_id: str) -> Any:
    """Which conditional fields of a step show, and which `required_if` ones are required now, given the
    values typed so far (for the script)."""
    _active_or_404(workflow_id)
    instance = _current(db(), workflow_id)
    if instance is None or instance.is_completed:
        return jsonify(visible=[], hidden=[], required=[])
    flow = definitions.of_instance(db(), instance)
    state = request.args.get("state") or instance.state
    if state not in flow.spec.states or not navigation.reached(instance, state):
        return jsonify(visible=[], hidden=[], required=[])
    form = _form(flow, instance, formdata=request.form, state=state)
    shown = {name: form.is_visible(name) for name in form.conditional}
    required = [name for name, spec in form.conditional.items() if spec.required_if and form.is_required(name)]
    return jsonify(visible=[n for n, on in shown.items() if on], hidden=[n for n, on in shown.items() if not on],
                   required=required)
