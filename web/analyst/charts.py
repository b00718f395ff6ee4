"""The dashboard's charts as geometry for server-rendered SVG (no JavaScript): numbers in, shapes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOX_W, BOX_H, GAP = 120, 56, 44  # state diagram boxes, in viewBox units
FUNNEL_W, ROW_H, LABEL_W = 420, 30, 130
DAYS_W, DAYS_H = 560, 160
COLD, HOT = (238, 242, 255), (30, 58, 138)  # heatmap: no live instance -> the most


@dataclass(frozen=True)
class Box:
    state: str
    x: int
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


def diagram(figures: dict[str, Any]) -> dict[str, Any]:
    """States in funnel order as boxes on one row, shaded by live count; transitions as arrows
    (next box: straight; further forward: an arc above; backwards: an arc below)."""
    states = figures["states"]
    live = figures["by_state"]
    stuck = {s["state"]: s["count"] for s in figures["stuck"]}
    top = max(live.values(), default=0) or 1
    boxes = []
    for i, state in enumerate(states):
        ratio = live.get(state, 0) / top
        boxes.append(Box(state, i * (BOX_W + GAP), live.get(state, 0), stuck.get(state, 0), _mix(ratio),
                         "#ffffff" if ratio > 0.5 else "#1b1b2f"))
    index = {state: i for i, state in enumerate(states)}
    pairs = [(index[a], index[b]) for a, b in figures.get("edges", []) if a in index and b in index and a != b]
    top = 60 if any(j > i + 1 for i, j in pairs) else 10  # room for the arcs above, then below
    below = 60 if any(j < i for i, j in pairs) else 10
    width = max(1, len(states)) * (BOX_W + GAP) - GAP
    return {"boxes": boxes, "edges": [_edge(i, j, top) for i, j in pairs], "width": width,
            "height": top + BOX_H + below, "box_w": BOX_W, "box_h": BOX_H, "top": top}


def _edge(i: int, j: int, top: int) -> Edge:
    if j == i + 1:
        x = i * (BOX_W + GAP) + BOX_W
        return Edge(f"M{x},{top + BOX_H // 2} L{x + GAP - 4},{top + BOX_H // 2}", back=False)
    x1, x2 = i * (BOX_W + GAP) + BOX_W // 2, j * (BOX_W + GAP) + BOX_W // 2
    lift = min(27, 9 + 4 * abs(j - i))
    if j > i:  # a forward jump: above the boxes
        return Edge(f"M{x1},{top} Q{(x1 + x2) // 2},{top - 2 * lift} {x2},{top - 4}", back=False)
    bottom = top + BOX_H
    return Edge(f"M{x1},{bottom} Q{(x1 + x2) // 2},{bottom + 2 * lift} {x2},{bottom + 4}", back=True)


def funnel(figures: dict[str, Any]) -> dict[str, Any]:
    """One row per state: a bar as long as the instances that reached it, split into those that left
    it and those that stopped there."""
    steps = figures["funnel"]
    top = max((s["reached"] for s in steps), default=0) or 1
    rows = []
    for i, step in enumerate(steps):
        reached_w = round(FUNNEL_W * step["reached"] / top, 1)
        left_w = round(FUNNEL_W * step["left"] / top, 1) if not step["is_final"] else reached_w
        rows.append({**step, "y": i * ROW_H, "left_w": left_w, "dropped_w": round(reached_w - left_w, 1)})
    return {"rows": rows, "label_w": LABEL_W, "bar_w": FUNNEL_W, "width": LABEL_W + FUNNEL_W + 120,
            "height": max(1, len(rows)) * ROW_H, "row_h": ROW_H}


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
