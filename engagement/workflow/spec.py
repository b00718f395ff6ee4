"""The checked, immutable form of a workflow file: what the engine, the forms and the wizard read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Text = dict[str, str]  # {"fr": ..., "en": ...}; a plain YAML string is stored under "*"

FIELD_TYPES = (
    "text", "textarea", "email", "integer", "decimal", "date", "boolean", "choice", "multichoice",
    "phone", "postal_code", "country", "address", "consent", "hidden", "password",
)
ACCESS_LEVELS = ("public", "member", "organizer")
# Triggers whose button has a built-in text in every language (the wizard translates them): no label needed.
DEFAULT_TRIGGERS = ("next", "previous", "continue", "send", "confirm", "submit", "skip", "save", "later", "register",
                    "cancel", "start", "finish", "accept", "decline")


def localize(text: Text | None, locale: str, fallback: str = "fr") -> str:
    """The text for ``locale``, else the fallback locale, else any text there is."""
    if not text:
        return ""
    for key in (locale, "*", fallback):
        if key in text:
            return text[key]
    return next(iter(text.values()))


@dataclass(frozen=True)
class ActionSpec:
    """``kind`` is ``mail``, ``set`` or ``call`` (a registered Python action named ``name``)."""

    kind: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: Text = field(default_factory=dict)
    help: Text = field(default_factory=dict)
    placeholder: Text = field(default_factory=dict)
    required: bool = False
    required_if: str | None = None
    visible_if: str | None = None
    default: Any = None
    min: Any = None
    max: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[tuple[str, Text], ...] | None = None
    choices_from: str | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    validate: tuple[str, ...] = ()  # registered server-side checks, in order
    min_age: int | None = None  # date fields: at least this many years ago (a birth date)
    max_age: int | None = None
    messages: dict[str, Text] = field(default_factory=dict)
    autocomplete: str | None = None  # an HTML autofill token; fieldtypes.TYPES gives each type's default
    link: str | None = None  # consent fields: the site path of the terms the box accepts (/charte-des-benevoles)

    @property
    def is_conditional(self) -> bool:
        return bool(self.visible_if or self.required_if)


@dataclass(frozen=True)
class StateSpec:
    name: str
    title: Text = field(default_factory=dict)
    help: Text = field(default_factory=dict)
    fields: tuple[FieldSpec, ...] = ()
    final: bool = False
    on_enter: tuple[ActionSpec, ...] = ()
    on_exit: tuple[ActionSpec, ...] = ()
    allow_back: bool = True
    page: bool = False  # `automatic: false`: shown even without fields (its buttons are its triggers)
    sla_seconds: int | None = None  # `sla: 48h`: an instance here longer than this is stuck
    review: bool = False  # `review: true`: the page lists every answer so far, with a change link per step

    @property
    def automatic(self) -> bool:
        """A state with no form that is not final routes itself on entry (unless it says it is a page)."""
        return not self.fields and not self.final and not self.page and not self.review


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    label: Text = field(default_factory=dict)
    rate_limit: str | None = None  # per client and per account, e.g. "10 per hour"
    validate: bool = True  # `validate: false`: leaves without validating (back, skip, save for later)


@dataclass(frozen=True)
class WorkflowSpec:
    id: str
    version: int
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    title: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    access: str = "public"
    checksum: str = ""
    subtitle: Text = field(default_factory=dict)  # a template over the answers, shown above each step
    inputs: tuple[str, ...] = ()  # answers given by the page that opens it, not by a step
    migrate_from: dict[int, dict[str, str]] = field(default_factory=dict)  # {old version: {old state: new}}

    def triggers_from(self, state: str) -> list[str]:
        """The distinct triggers leaving ``state``, in file order (the step's buttons)."""
        seen: list[str] = []
        for transition in self.transitions:
            if state in transition.sources and transition.trigger not in seen:
                seen.append(transition.trigger)
        return seen

    def transition_label(self, state: str, trigger: str) -> Text:
        for transition in self.transitions:
            if state in transition.sources and transition.trigger == trigger and transition.label:
                return transition.label
        return {}

    @property
    def fields(self) -> dict[str, FieldSpec]:
        return {f.name: f for s in self.states.values() for f in s.fields}
