"""The form of one workflow step, built from its state's field specs and cached per locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField

from engagement.accounts import passwords
from engagement.expressions import ExpressionError, is_template, parse_expression, referenced, render
from engagement.workflow.machine import CompiledWorkflow
from engagement.workflow.runtime import required, visible
from engagement.workflow.spec import FieldSpec, StateSpec, localize
from forms.address import AddressField, CityLookup
from forms.address import parts as address_parts
from forms.fields import make_field, shown_value
from forms.messages import message

ChoiceResolver = Callable[[str, str], list[tuple[str, str]]]  # (choices_from, locale) -> choices
ConditionContext = Callable[[dict[str, Any]], dict[str, Any]]  # pending answers -> expression context
FieldChecks = Callable[[str, Any], str | None]  # (registered check, value) -> rule broken


class StepForm(FlaskForm):
    """Base of every step form: the step token plus live visibility and requirement."""

    class Meta:
        # The app-wide CSRFProtect already checks every POST before any view runs; a second,
        # per-form token would only sign and verify the same secret again.
        csrf = False

    # An explicit label: without one, WTForms translates the field name, and Flask-WTF then
    # parses WTForms' message catalogue from disk again on every request.
    step = HiddenField("Step")
    state_spec: StateSpec
    conditional: dict[str, FieldSpec]
    step_dependent: frozenset[str] = frozenset()
    _context: ConditionContext | None = None
    _evaluated: dict[str, Any] | None = None

    _checks: FieldChecks | None = None

    def bind_conditions(self, context: ConditionContext) -> None:
        self._context, self._evaluated = context, None

    def run_check(self, name: str, value: Any) -> str | None:
        """Run a registered field check (``validate:`` in YAML); without a resolver, nothing is checked."""
        if self._checks is None:
            raise RuntimeError(f"field check {name!r} needs a resolver passed to build()")
        return self._checks(name, value)

    def _conditions(self) -> dict[str, Any]:
        if self._evaluated is None:
            self._evaluated = self._context(self.pending()) if self._context else {}
        return self._evaluated

    def is_visible(self, name: str) -> bool:
        spec = self.conditional.get(name)
        return spec is None or spec.visible_if is None or visible(spec, self._conditions())

    def is_required(self, name: str) -> bool:
        spec = self.conditional.get(name) or self.specs()[name]
        return required(spec, self._conditions())

    def specs(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.state_spec.fields}

    def pending(self) -> dict[str, Any]:
        """This step's values as typed so far (for conditions), invalid ones as None."""
        return {spec.name: _value(self[spec.name]) for spec in self.state_spec.fields}

    def valid_answers(self) -> dict[str, Any]:
        """After ``validate``: the visible fields that passed their rules, passwords left out (for Back)."""
        return {spec.name: _value(self[spec.name]) for spec in self.state_spec.fields
                if spec.type != "password" and not self[spec.name].errors and self.is_visible(spec.name)}

    def answers(self) -> dict[str, Any]:
        """The validated answers of this step; hidden-by-condition fields are recorded as None."""
        return {spec.name: (_answer(spec, self[spec.name]) if self.is_visible(spec.name) else None)
                for spec in self.state_spec.fields}


def _answer(spec: FieldSpec, field: Field) -> Any:
    """What the instance records: a password only ever as its argon2id hash, of exactly what was typed (the
    rules checked it unstripped: stripping could make it another, shorter password); blank is no answer."""
    value = _value(field)
    if spec.type == "password" and value:
        return passwords.for_storage(field.data)
    return value


def _value(field: Field) -> Any:
    if isinstance(field, AddressField):  # the one composite field
        return address_parts(field)
    data = field.data
    return data.strip() if isinstance(data, str) else data


def _depends_on_step(spec: FieldSpec, step_fields: set[str]) -> bool:
    _names, keys, _problems = referenced(parse_expression(spec.visible_if or "none"))
    return bool(keys & step_fields)


def _step_dependent(state: StateSpec) -> frozenset[str]:
    """Fields whose ``visible_if`` reads this very step's answers (parsed once per form class)."""
    names = {f.name for f in state.fields}
    return frozenset(f.name for f in state.fields if f.visible_if and _depends_on_step(f, names))


_CLASSES: dict[tuple[str, int, str, str, str], type[StepForm]] = {}


def form_class(flow: CompiledWorkflow, state: str, locale: str) -> type[StepForm]:
    """The (cached) form class of ``state`` in ``locale``."""
    spec = flow.spec
    key = (spec.id, spec.version, spec.checksum, state, locale)
    cls = _CLASSES.get(key)
    if cls is None:
        state_spec = spec.states[state]
        attrs: dict[str, Any] = {f.name: make_field(f, locale, message) for f in state_spec.fields}
        attrs["state_spec"] = state_spec
        attrs["conditional"] = {f.name: f for f in state_spec.fields if f.is_conditional}
        attrs["step_dependent"] = _step_dependent(state_spec)
        cls = _CLASSES[key] = type(f"{spec.id}_{state}_form", (StepForm,), attrs)
    return cls


def build(flow: CompiledWorkflow, state: str, locale: str, choices: ChoiceResolver,
          context: ConditionContext, *, initial: dict[str, Any] | None = None, step: int = 0,
          formdata: Any = None, cities: CityLookup | None = None, checks: FieldChecks | None = None) -> StepForm:
    """A bound step form: from the request on POST, else prefilled from ``initial`` answers."""
    cls = form_class(flow, state, locale)
    kwargs: dict[str, Any] = {"step": str(step)}
    if initial is not None:
        kwargs.update(_prefill(cls.state_spec, initial, context))
    form = cls(formdata=formdata, data=kwargs) if formdata is not None else cls(data=kwargs)
    for spec in cls.state_spec.fields:
        if spec.choices_from:
            form[spec.name].choices = choices(spec.choices_from, locale)
        if spec.type == "address":
            form[spec.name].bind(locale, cities)
    form.bind_conditions(context)
    form._checks = checks
    return form


def _prefill(state: StateSpec, answers: dict[str, Any], context: ConditionContext) -> dict[str, Any]:
    values = {}
    for spec in state.fields:
        value = answers.get(spec.name, spec.default)
        if spec.name not in answers and is_template(value):
            value = _render_default(value, context)
        value = shown_value(spec, value)
        if value is not None:
            values[spec.name] = value
    return values


def _render_default(template: str, context: ConditionContext) -> str | None:
    """A ``{{ template }}`` default, rendered over the answers so far (None when it cannot be)."""
    try:
        return render(template, context({}))
    except ExpressionError:
        return None


def initially_shown(form: StepForm) -> set[str]:
    """Fields to render without JavaScript: visible now, or depending on this very step's answers."""
    return {name for name, spec in form.specs().items()
            if spec.visible_if is None or name in form.step_dependent or form.is_visible(name)}


def step_title(state: StateSpec, locale: str) -> str:
    return localize(state.title, locale) or gettext("Step")
