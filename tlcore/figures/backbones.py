"""Charts of the Backbones page: published top-1 against latency or size, with the Pareto front."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT

__all__ = ["pareto_front", "published_scatter"]


def pareto_front(points: list[dict[str, Any]], x: str = "cpu_ms", y: str = "top1") -> list[str]:
    """Names of the points no other point beats: none has a lower-or-equal `x` with a higher `y`.

    Ordered by increasing `x` (so also increasing `y`): the best accuracy you can buy for each latency or size.
    Points missing either figure are left out.
    """
    usable = sorted((p for p in points if p.get(x) is not None and p.get(y) is not None),
                    key=lambda p: (p[x], -p[y]))
    front, best = [], float("-inf")
    for point in usable:
        if point[y] > best:
            front.append(point["name"])
            best = point[y]
    return front


def published_scatter(rows: list[dict[str, Any]], x: str = "cpu_ms") -> go.Figure:
    """Top-1 accuracy against latency (or size) for backbones with both figures published; Pareto front as a line."""
    points = [row for row in rows if row.get(x) is not None and row.get("top1") is not None]
    front = pareto_front(points, x)
    others = [row for row in points if row["name"] not in front]
    on_front = sorted((row for row in points if row["name"] in front), key=lambda row: row[x])
    figure = go.Figure()
    figure.add_scatter(x=[row[x] for row in others], y=[row["top1"] for row in others], mode="markers+text",
                       text=[row["name"] for row in others], textposition="top center", name="other backbones",
                       marker=dict(color="#9aa5b1", size=8))
    figure.add_scatter(x=[row[x] for row in on_front], y=[row["top1"] for row in on_front], mode="lines+markers+text",
                       text=[row["name"] for row in on_front], textposition="top left",
                       name="Pareto front (best top-1 for its cost)",
                       marker=dict(color="#e45756", size=11, symbol="diamond"), line=dict(color="#e45756", dash="dot"))
    labels = {"cpu_ms": "CPU ms per inference step (published)", "gpu_ms": "GPU ms per inference step (published)",
              "size_mb": "size (MB)"}
    figure.update_layout(title="Published ImageNet top-1 accuracy", xaxis_title=labels.get(x, x), xaxis_type="log",
                         yaxis_title="top-1", yaxis_tickformat=".0%", height=460,
                         legend=dict(orientation="h", y=-0.15), **LAYOUT)
    return figure
