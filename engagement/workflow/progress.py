"""How far a walk has to go: the fewest pages still needed to reach a final state ("Étape 2 sur 4").

Honest on branching flows: a condition that the answers given so far decide is followed (an
automatic state routes where it will route); one that reads an answer not given yet leaves
every way open, and the shortest counts. Transitions that leave without validating (back, skip,
save for later) are not ways forward.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from engagement.expressions import ExpressionError, evaluate, parse_expression, referenced
from engagement.workflow.spec import TransitionSpec, WorkflowSpec

UNKNOWN = None


@lru_cache(maxsize=2048)
def _reads(source: str) -> frozenset[str]:
    _names, keys, _problems = referenced(parse_expression(source))
    return frozenset(keys)


def _decide(transition: TransitionSpec, context: Mapping[str, Any]) -> bool | None:
    """True or False when the answers so far decide the transition's conditions, else None."""
    answered = context["data"]
    outcome: bool | None = True
    for source, wanted in [*((c, True) for c in transition.conditions), *((u, False) for u in transition.unless)]:
        if any(key not in answered for key in _reads(source)):
            outcome = UNKNOWN if outcome else outcome
            continue
        try:
            value = bool(evaluate(source, context))
        except ExpressionError:
            value = None
        if value is None:
            outcome = UNKNOWN if outcome else outcome
        elif value != wanted:
            return False
    return outcome


def _ways(spec: WorkflowSpec, state: str, context: Mapping[str, Any]) -> list[str]:
    """The states ``state`` may lead to, given what is known."""
    automatic = spec.states[state].automatic
    found: list[str] = []
    for trigger in spec.triggers_from(state):
        for transition in spec.transitions:
            if transition.trigger != trigger or state not in transition.sources or not transition.validate:
                continue
            decided = _decide(transition, context)
            if decided is False:
                continue
            found.append(transition.dest)
            if decided:  # the first that holds wins: the later ones of this trigger never fire
                if automatic:
                    return found  # an automatic state fires its first transition that holds, whatever the trigger
                break
    return found


def pages_left(spec: WorkflowSpec, state: str, context: Mapping[str, Any]) -> int:
    """The fewest pages (steps with a form, review or button page) between ``state`` and a final state."""
    best = _shortest(spec, state, lambda s: _ways(spec, s, context))
    if best is None:  # the answers decide no way out (the visitor will read why): count as if none were known
        best = _shortest(spec, state, lambda s: [t.dest for t in spec.transitions if s in t.sources and t.validate])
    return best or 0


def _shortest(spec: WorkflowSpec, start: str, ways: Any) -> int | None:
    """0-1 breadth-first search: entering a page costs one, an automatic state nothing."""
    cost = {start: 0}
    queue: deque[str] = deque([start])
    while queue:
        state = queue.popleft()
        if spec.states[state].final:
            return cost[state]
        for dest in ways(state):
            target = spec.states[dest]
            step = 0 if target.automatic or target.final else 1
            if dest not in cost or cost[state] + step < cost[dest]:
                cost[dest] = cost[state] + step
                (queue.appendleft if step == 0 else queue.append)(dest)
    return None
