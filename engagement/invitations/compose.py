"""The personalised message: fixed texts and the arguments of every chosen option, in a fixed order.

Order (documented in docs/invitation.md): introduction, the argument of the friend's gender, then
the supporter's reasons, the friend's job type, the friend's interests and the friend's life
project, then the conclusion. Inside a group, arguments follow the organizers' order, not the
order of ticking. The friend's first name is inserted as plain text (never read as a template);
the HTML mail escapes the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagement.expressions import ExpressionError, render
from engagement.invitations.content import Catalog
from engagement.mail.headers import one_line
from engagement.workflow.spec import localize

ARGUMENT_ORDER = (  # (content kind, answer holding the chosen key or keys)
    ("reason", "self_reasons"),
    ("position", "friend_position"),
    ("interest", "friend_interests"),
    ("project", "friend_project"),
)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def compose(catalog: Catalog, answers: dict[str, Any], locale: str) -> Message:
    """The message for these answers, in ``locale`` (French where a text has no translation)."""
    context = {"first_name": " ".join(str(answers.get("friend_first_name") or "").split())}

    def text(template: dict[str, str]) -> str:
        source = localize(template, locale)
        try:
            return render(source, context).strip()
        except ExpressionError:  # content is checked when saved; an old bad row is left out
            return ""

    paragraphs = [text(catalog.text("introduction"))]
    gender = catalog.get("gender", str(answers.get("friend_gender") or ""))
    if gender is not None:
        paragraphs.append(text(gender.body))
    for kind, answer in ARGUMENT_ORDER:
        chosen = answers.get(answer)
        keys = set(chosen if isinstance(chosen, list) else [chosen] if chosen else [])
        paragraphs.extend(text(p.body) for p in catalog.of_kind(kind, active_only=False) if p.key in keys)
    paragraphs.append(text(catalog.text("conclusion")))
    subject = one_line(text(catalog.text("subject")))  # a header: one line, its no-break spaces kept
    return Message(subject=subject, body="\n\n".join(p for p in paragraphs if p))
