"""Plotly charts of the Predict page: batch-prediction class counts and the export comparison."""

from __future__ import annotations

from collections import Counter
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tlcore.figures.style import LAYOUT, plain, plain_all

__all__ = ["predicted_class_counts", "export_comparison", "top_k"]


def predicted_class_counts(rows: list[dict[str, Any]], class_names: list[str] | None = None) -> go.Figure:
    """How many images of a batch went to each class (unreadable images counted apart), largest first."""
    counts = Counter(row["predicted"] if row.get("predicted") is not None else "(unreadable)" for row in rows)
    names = sorted(counts, key=lambda name: (-counts[name], name))
    if class_names:  # classes nothing went to are worth seeing too
        names += [name for name in class_names if name not in counts]
    figure = go.Figure(go.Bar(x=plain_all(names), y=[counts.get(name, 0) for name in names], text=[counts.get(name, 0)
                                                                                        for name in names],
                              textposition="auto", marker_color="#4c78a8"))
    figure.update_layout(title=f"Predicted classes ({len(rows)} images)", xaxis_type="category",
                         yaxis_title="images", height=320, **LAYOUT)
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
    figure.update_layout(showlegend=False, height=320, **LAYOUT)
    figure.update_xaxes(type="category")
    return figure


def top_k(prediction: list[tuple[str, float]], title: str = "") -> go.Figure:
    """Horizontal bars of class probabilities, the most likely on top."""
    classes = [plain(name) for name, _ in prediction][::-1]
    probabilities = [p for _, p in prediction][::-1]
    figure = go.Figure(go.Bar(x=probabilities, y=classes, orientation="h", text=[f"{p:.1%}" for p in probabilities],
                              textposition="auto", marker_color="#54a24b"))
    figure.update_layout(title=title, xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis_type="category",
                         height=80 + 30 * len(classes), **LAYOUT)
    return figure
