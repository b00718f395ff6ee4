"""The states as a graph: a final state exists, every state is reached from the initial one and can finish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engagement.i18n import N_
from engagement.workflow.spec import StateSpec, TransitionSpec

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker


def check_graph(c: Checker, states: dict[str, StateSpec], transitions: list[TransitionSpec], initial: str) -> None:
    edges: dict[str, set[str]] = {name: set() for name in states}
    for transition in transitions:
        for source in transition.sources:
            edges[source].add(transition.dest)
    if not any(state.final for state in states.values()):
        c.error(("states",), N_("no final state: the workflow can never complete"))
    reachable = _closure({initial}, edges)
    finishing = _closure({n for n, s in states.items() if s.final}, _reversed(edges))
    for name, state in states.items():
        if name not in reachable:
            c.error(("states", name), N_("state %(state)r is unreachable from %(initial)r"), key=True,
                    state=name, initial=initial)
        elif not state.final and not edges[name]:
            c.error(("states", name), N_("non-final state %(state)r is a dead end"), key=True, state=name)
        elif name not in finishing:
            c.error(("states", name), N_("no final state can be reached from %(state)r"), key=True, state=name)


def _reversed(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    reverse: dict[str, set[str]] = {name: set() for name in edges}
    for source, dests in edges.items():
        for dest in dests:
            reverse[dest].add(source)
    return reverse


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
