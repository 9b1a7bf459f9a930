"""Plotly charts of the Predict page: batch-prediction class counts and the export comparison."""

from __future__ import annotations

from collections import Counter
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["predicted_class_counts", "export_comparison"]

_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")


def predicted_class_counts(rows: list[dict[str, Any]], class_names: list[str] | None = None) -> go.Figure:
    """How many images of a batch went to each class (unreadable images counted apart), largest first."""
    counts = Counter(row["predicted"] if row.get("predicted") is not None else "(unreadable)" for row in rows)
    names = sorted(counts, key=lambda name: (-counts[name], name))
    if class_names:  # classes nothing went to are worth seeing too
        names += [name for name in class_names if name not in counts]
    figure = go.Figure(go.Bar(x=names, y=[counts.get(name, 0) for name in names], text=[counts.get(name, 0)
                                                                                        for name in names],
                              textposition="auto", marker_color="#4c78a8"))
    figure.update_layout(title=f"Predicted classes ({len(rows)} images)", xaxis_type="category",
                         yaxis_title="images", height=320, **_LAYOUT)
    return figure


def export_comparison(formats: dict[str, dict[str, Any]]) -> go.Figure:
    """File size and single-image latency of each checked export, side by side."""
    rows = [row for row in formats.values() if "error" not in row]
    names = [row["format"] for row in rows]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("File size (MB)", "Latency per image (ms)"))
    figure.add_bar(x=names, y=[row["size_bytes"] / 1e6 for row in rows], marker_color="#54a24b", name="size",
                   text=[f"{row['size_bytes'] / 1e6:.2f}" for row in rows], textposition="auto", row=1, col=1)
    figure.add_bar(x=names, y=[row["latency_ms"] for row in rows], marker_color="#f58518", name="latency",
                   text=[f"{row['latency_ms']:.2f}" for row in rows], textposition="auto", row=1, col=2)
    figure.update_layout(showlegend=False, height=320, **_LAYOUT)
    figure.update_xaxes(type="category")
    return figure
