"""The dry run of a checked, unpublished file: its steps' real forms, where each button leads.

Nothing is recorded: no instance, no transition, no mail (actions are listed, not run). The
answers given so far travel in the page (``_data``) and the file itself in ``_source``; the
studio's own controls start with ``_``, which no workflow field name can.
"""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from engagement.db import utcnow
from engagement.geo.postal import city_options
from engagement.workflow import dryrun
from engagement.workflow.actions import jsonable
from engagement.workflow.checker import check_text
from engagement.workflow.machine import CompiledWorkflow, compile_spec
from engagement.workflow.registry import REGISTRY
from engagement.workflow.spec import WorkflowSpec, localize
from forms.step import StepForm, build, initially_shown
from web.auth.roles import role_required
from web.db import db
from web.locale import current_locale
from web.studio.editor import editor_page, file_name, posted
from web.studio.views import NO_STORE, bp
from web.wizard.presenter import button_label, error_summary

PROBLEMS = {
    "no_transition": _l("None of the ways forward applies to these answers: the visitor would see this step "
                        "again with a message."),
    "loop": _l("The workflow keeps routing through automatic states without reaching a step."),
}


def _data() -> dict[str, Any]:
    try:
        data = json.loads(request.form.get("_data") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _choices(name: str, locale: str) -> list[tuple[str, str]]:
    return [(key, localize(text, locale)) for key, text in REGISTRY.choices[name](db(), locale)]


def _check(name: str, value: Any) -> str | None:
    return REGISTRY.validators[name].func(db(), value)


def _form(flow: CompiledWorkflow, state: str, data: dict[str, Any], formdata: Any = None) -> StepForm:
    spec, now = flow.spec, utcnow()

    def context(pending: dict[str, Any]) -> dict[str, Any]:
        return dryrun.context(spec, state, {**data, **pending}, now)

    return build(flow, state, current_locale(), _choices, context, initial=data, formdata=formdata,
                 cities=city_options, checks=_check)


def _answers(form: StepForm) -> dict[str, Any]:
    """The step's answers as the instance would keep them (a password only as a placeholder)."""
    values = form.pending()
    kept = {spec.name: jsonable(values[spec.name]) if form.is_visible(spec.name) else None
            for spec in form.state_spec.fields}
    secret = {spec.name for spec in form.state_spec.fields if spec.type == "password" and kept[spec.name]}
    kept.update(dict.fromkeys(secret, "********"))
    return kept


@bp.post("/preview")
@role_required("organizer")
def preview() -> Any:
    text, name, problems = (request.form["_source"], file_name(request.form.get("filename")), []) \
        if "_source" in request.form else posted()
    spec, diagnostics = check_text(text, name) if not problems else (None, problems)
    if spec is None:
        return editor_page(text, name, diagnostics, status=422)
    flow = compile_spec(spec)  # for this page only: never cached, never published
    data, now = _data(), utcnow()
    state = request.form.get("_state", "")
    trigger, goto = request.form.get("_trigger"), request.form.get("_goto")
    outcome, form = None, None
    if goto in spec.states:
        outcome = dryrun.route(spec, goto, data, now)
    elif state not in spec.states:
        outcome = dryrun.route(spec, spec.initial, data, now)
    elif trigger in spec.triggers_from(state):
        form = _form(flow, state, data, formdata=request.form)
        if form.validate():
            data = {**data, **_answers(form)}
            outcome, form = dryrun.follow(spec, state, trigger, data, now), None
    else:
        outcome = dryrun.Outcome(state)
    if outcome is not None:
        state = outcome.state
    return _page(flow.spec, flow, text, name, state, data, form, outcome)


def _page(spec: WorkflowSpec, flow: CompiledWorkflow, text: str, name: str, state: str, data: dict[str, Any],
          form: StepForm | None, outcome: dryrun.Outcome | None) -> Any:
    current = spec.states[state]
    if form is None and not current.final:
        form = _form(flow, state, data)
    locale = current_locale()
    body = render_template(
        "studio/preview.html", spec=spec, state=current, text=text, name=name, form=form, outcome=outcome,
        data_json=json.dumps(data, ensure_ascii=False), data=data,
        problem=PROBLEMS.get(outcome.problem or "") if outcome else None,
        shown=initially_shown(form) if form is not None else set(),
        errors=error_summary(form) if form is not None else [],
        triggers=[(t, button_label(spec, state, t, locale)) for t in spec.triggers_from(state)],
    )
    return body, 200, NO_STORE
