"""Labels a person reads must exist in the site's default language (workflow language 1.1).

A French page must never fall back to an English text or to a bare name ("Sign"): the workflow's
title, the title of every state shown (a step, a review page, a button page, a final page), the
label of every field but hidden ones, every inline choice and the text of every button. A button
whose trigger has a built-in text (``next``, ``send``...) needs no label. Automatic states are
never shown and need none.
"""

from __future__ import annotations

from collections.abc import Iterator

from engagement.i18n import N_, Phrase
from engagement.workflow.loader import Path
from engagement.workflow.spec import DEFAULT_TRIGGERS, Text, WorkflowSpec

SITE_LOCALE = "fr"  # the movement's language: what a page falls back to
LANGUAGES = {"fr": N_("French (fr)"), "en": N_("English (en)")}


def has_text(text: Text, locale: str = SITE_LOCALE) -> bool:
    """A text in ``locale`` (a plain YAML string counts for every language)."""
    return any((text.get(key) or "").strip() for key in (locale, "*"))


def missing_labels(spec: WorkflowSpec, locale: str = SITE_LOCALE) -> Iterator[tuple[Path, bool, Phrase]]:
    """(where, at the key?, message) for each text a person would read and that ``locale`` lacks."""
    language = Phrase(LANGUAGES.get(locale, locale))
    if not has_text(spec.title, locale):
        yield ("id",), True, Phrase(N_("the workflow needs a title in %(language)s: every page shows it"),
                                    {"language": language})
    for name, state in spec.states.items():
        if state.automatic:
            continue
        if not has_text(state.title, locale):
            yield ("states", name), True, Phrase(N_("state %(state)r is shown to visitors and needs a title in "
                                                    "%(language)s"), {"state": name, "language": language})
        for index, field in enumerate(state.fields):
            where: Path = ("states", name, "fields", index)
            if field.type != "hidden" and not has_text(field.label, locale):
                yield (*where, "name"), False, Phrase(N_("field %(field)r needs a label in %(language)s"),
                                                      {"field": field.name, "language": language})
            for key, text in field.choices or ():
                if not has_text(text, locale):
                    yield (*where, "choices", key), True, Phrase(
                        N_("choice %(choice)r of field %(field)r needs a label in %(language)s"),
                        {"choice": key, "field": field.name, "language": language})
    yield from _buttons(spec, locale, language)


def _buttons(spec: WorkflowSpec, locale: str, language: Phrase) -> Iterator[tuple[Path, bool, Phrase]]:
    """A trigger leaving a shown state is a button: a label in one of its transitions, or a built-in text."""
    reported: set[tuple[str, str]] = set()
    for index, transition in enumerate(spec.transitions):
        if transition.trigger in DEFAULT_TRIGGERS:
            continue
        for source in transition.sources:
            if spec.states[source].automatic or (source, transition.trigger) in reported:
                continue
            if not has_text(spec.transition_label(source, transition.trigger), locale):
                reported.add((source, transition.trigger))
                yield (("transitions", index, "trigger"), False, Phrase(
                    N_("the button %(trigger)r of state %(state)r needs a label in %(language)s "
                       "(built-in texts: %(builtin)s)"),
                    {"trigger": transition.trigger, "state": source, "language": language,
                     "builtin": ", ".join(DEFAULT_TRIGGERS)}))
