"""A workflow as a Mermaid state diagram (its text is also what organizers download)."""

from __future__ import annotations

from engagement.workflow.spec import WorkflowSpec, localize


def mermaid(spec: WorkflowSpec, locale: str = "fr") -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {spec.initial}"]
    for name, state in spec.states.items():
        title = localize(state.title, locale)
        if title:
            lines.append(f'    {name} : {title.replace(":", " ")}')
    for transition in spec.transitions:
        guard = " [if]" if transition.conditions or transition.unless else ""
        for source in transition.sources:
            lines.append(f"    {source} --> {transition.dest} : {transition.trigger}{guard}")
    lines.extend(f"    {name} --> [*]" for name, state in spec.states.items() if state.final)
    return "\n".join(lines) + "\n"


def as_json(spec: WorkflowSpec) -> dict[str, object]:
    return {
        "id": spec.id, "version": spec.version, "title": spec.title, "access": spec.access,
        "initial": spec.initial,
        "states": {name: {"final": s.final, "automatic": s.automatic, "fields": [f.name for f in s.fields]}
                   for name, s in spec.states.items()},
        "transitions": [{"trigger": t.trigger, "source": list(t.sources), "dest": t.dest,
                         "conditions": list(t.conditions), "unless": list(t.unless)} for t in spec.transitions],
    }
