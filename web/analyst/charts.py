"""The dashboard's charts as geometry for server-rendered SVG (no JavaScript): numbers in, shapes out.

Every chart is drawn to read on a phone: the state diagram is one column of boxes (about as wide as a
phone, its text at least 14 px there), the funnel's bars are percentages of their row and the per-day
chart carries no text (its labels are HTML around it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

BOX_W, BOX_H, GAP, SIDE, PAD = 240, 44, 26, 56, 4  # the state diagram in viewBox units: boxes, gaps, arcs, border
TITLE_CHARS = 24  # a longer title is cut in its box (the whole one is in the box's tooltip)
DAYS_W, DAYS_H = 560, 160
COLD, HOT = (238, 242, 255), (30, 58, 138)  # heatmap: no live instance -> the most


@dataclass(frozen=True)
class Box:
    state: str
    title: str
    label: str  # the title as it fits in the box
    y: int
    live: int
    stuck: int
    fill: str
    ink: str


@dataclass(frozen=True)
class Edge:
    path: str
    back: bool


def _mix(ratio: float) -> str:
    r, g, b = (round(c + (h - c) * ratio) for c, h in zip(COLD, HOT, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _cut(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1].rstrip() + "…"


def bridged(edges: list[tuple[str, str]], skip: Collection[str]) -> list[tuple[str, str]]:
    """The edges between shown states, each path through skipped (automatic) states made one edge."""
    onward: dict[str, list[str]] = {}
    for a, b in edges:
        onward.setdefault(a, []).append(b)

    def ends(state: str, seen: frozenset[str]) -> list[str]:
        if state not in skip:
            return [state]
        return [end for nxt in onward.get(state, []) if nxt not in seen for end in ends(nxt, seen | {nxt})]

    found = [(a, end) for a, b in edges if a not in skip for end in ends(b, frozenset({b}))]
    return list(dict.fromkeys(found))


def diagram(figures: dict[str, Any], titles: Mapping[str, str] | None = None,
            skip: Collection[str] = ()) -> dict[str, Any]:
    """States in funnel order as boxes in one column, shaded by live count; transitions as arrows
    (next box: straight down; further on: an arc on the right; backwards: a dashed arc on the left)."""
    titles = titles or {}
    states = [s for s in figures["states"] if s not in skip]
    live = figures["by_state"]
    stuck = {s["state"]: s["count"] for s in figures["stuck"]}
    top = max(live.values(), default=0) or 1
    boxes = []
    for i, state in enumerate(states):
        ratio = live.get(state, 0) / top
        title = titles.get(state) or state
        boxes.append(Box(state, title, _cut(title), _top(i), live.get(state, 0), stuck.get(state, 0),
                         _mix(ratio), "#ffffff" if ratio > 0.5 else "#1b1b2f"))
    index = {state: i for i, state in enumerate(states)}
    edges = bridged([(a, b) for a, b in figures.get("edges", [])], skip)
    pairs = [(index[a], index[b]) for a, b in edges if a in index and b in index and a != b]
    height = max(1, len(states)) * (BOX_H + GAP) - GAP
    return {"boxes": boxes, "edges": [_edge(i, j) for i, j in pairs], "width": BOX_W + 2 * SIDE,
            "height": height + 2 * PAD, "box_w": BOX_W, "box_h": BOX_H, "left": SIDE}


def _top(i: int) -> int:
    return PAD + i * (BOX_H + GAP)


def _edge(i: int, j: int) -> Edge:
    if j == i + 1:
        x, y = SIDE + BOX_W // 2, _top(i) + BOX_H
        return Edge(f"M{x},{y} L{x},{y + GAP - 4}", back=False)
    y1, y2 = _top(i) + BOX_H // 2, _top(j) + BOX_H // 2
    reach = min(SIDE - 4, 14 + 6 * abs(j - i))
    if j > i:  # a jump forward: on the right
        x = SIDE + BOX_W
        return Edge(f"M{x},{y1} Q{x + 2 * reach},{(y1 + y2) // 2} {x + 4},{y2}", back=False)
    return Edge(f"M{SIDE},{y1} Q{SIDE - 2 * reach},{(y1 + y2) // 2} {SIDE - 4},{y2}", back=True)


def funnel(figures: dict[str, Any], titles: Mapping[str, str] | None = None,
           skip: Collection[str] = ()) -> dict[str, Any]:
    """One row per step with a page (automatic states are skipped): a bar as long as the instances that
    reached it, in percent of the widest, split into those that left it and those that stopped there."""
    titles = titles or {}
    steps = [s for s in figures["funnel"] if s["state"] not in skip]
    top = max((s["reached"] for s in steps), default=0) or 1
    rows = []
    for step in steps:
        reached_w = round(100 * step["reached"] / top, 1)
        left_w = round(100 * step["left"] / top, 1) if not step["is_final"] else reached_w
        rows.append({**step, "title": titles.get(step["state"]) or step["state"], "left_w": left_w,
                     "dropped_w": round(reached_w - left_w, 1)})
    return {"rows": rows}


def days(figures: dict[str, Any]) -> dict[str, Any]:
    """Started per day as bars, completed per day as a line, on one scale."""
    per_day = figures["per_day"]
    top = max((max(d["started"], d["completed"]) for d in per_day), default=0) or 1
    step = DAYS_W / max(1, len(per_day))
    bars, points = [], []
    for i, day in enumerate(per_day):
        h = round(DAYS_H * day["started"] / top, 1)
        bars.append({"x": round(i * step, 1), "y": round(DAYS_H - h, 1), "w": round(max(step - 1, 0.5), 1), "h": h,
                     **day})
        points.append(f"{round(i * step + step / 2, 1)},{round(DAYS_H - DAYS_H * day['completed'] / top, 1)}")
    return {"bars": bars, "line": " ".join(points), "width": DAYS_W, "height": DAYS_H, "top": top,
            "first": per_day[0]["day"] if per_day else "", "last": per_day[-1]["day"] if per_day else ""}
