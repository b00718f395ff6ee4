"""The actions workflows/event_registration.yml names: taking a place, or one on the waitlist."""

from __future__ import annotations

from engagement.events.mine import at_event
from engagement.events.registration import Closed, Person, place
from engagement.events.service import by_slug
from engagement.workflow.errors import WorkflowError
from engagement.workflow.registry import REGISTRY, ActionContext

EVENT = "event"  # the answer naming the event (its slug), set when the registration is opened


def _person(context: ActionContext) -> Person:
    data, actor = context.data, context.actor
    if data.get("email"):  # the visitor's own answers (anonymous path)
        return Person(data["email"], data["first_name"], data["last_name"], data.get("postal_code") or "",
                      getattr(actor, "id", None))
    if actor is None:
        raise WorkflowError("no_transition", "who registers is unknown")
    postal_code = (getattr(actor, "address", None) or {}).get("postal_code") or ""
    return Person(actor.email, actor.first_name, actor.last_name, postal_code, actor.id)


def _place(context: ActionContext, waitlist: bool) -> None:
    event = by_slug(context.session, str(context.data.get(EVENT) or ""))
    if event is None:
        raise WorkflowError("event_closed", "this event does not exist any more")
    actor = context.actor
    # A member told so when they already hold a place; a visitor's form never says whether an address has one.
    held = at_event(context.session, event, actor.id, actor.email) \
        if actor is not None and not context.data.get("email") else None
    context.data["already"] = held is not None
    try:
        context.data["outcome"] = place(context.session, event.id, _person(context), waitlist=waitlist,
                                        now=context.now, locale=context.locale)
    except Closed:
        raise WorkflowError("event_closed", "registration for this event is closed") from None


@REGISTRY.action("events.register_attendee", provides=("outcome", "already"))
def register_attendee(context: ActionContext) -> None:
    """A seat if one is free; otherwise ``outcome`` is ``full`` and nothing is recorded."""
    _place(context, waitlist=False)


@REGISTRY.action("events.join_waitlist", provides=("outcome", "already"))
def join_waitlist(context: ActionContext) -> None:
    """A place on the waitlist (or a seat, if one was freed meanwhile)."""
    _place(context, waitlist=True)
