"""Charts of the tuning tools: learning-rate finder, learning curves across phases, freeze-depth sweep."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from tlcore.figures.common import phase_boundaries

__all__ = ["lr_finder_curve", "phase_curves", "freeze_depth_sweep"]

_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")


def lr_finder_curve(result: dict[str, Any]) -> go.Figure:
    """Loss against learning rate (log axis), raw and smoothed, with the suggested rate marked."""
    figure = go.Figure()
    figure.add_scatter(x=result["learning_rates"], y=result["losses"], mode="markers", name="loss per batch",
                       marker=dict(color="#9aa5b1", size=5))
    figure.add_scatter(x=result["learning_rates"], y=result["smoothed"], mode="lines", name="smoothed loss",
                       line=dict(color="#4c78a8", width=3))
    suggested = result["suggested"]
    figure.add_vline(x=suggested, line_dash="dash", line_color="#e45756")
    figure.add_annotation(x=suggested, y=1.0, yref="paper", text=f"suggested {suggested:.1e}", showarrow=False,
                          xanchor="left", font=dict(color="#e45756"))
    top = max(result["smoothed"][:max(1, len(result["smoothed"]) // 2)] or [1.0]) * 2
    figure.update_layout(title="Learning-rate finder", xaxis_title="learning rate", xaxis_type="log",
                         yaxis_title="training loss", yaxis_range=[0, top], height=360, **_LAYOUT)
    return figure


def phase_curves(history: list[dict[str, Any]], metric: str = "accuracy") -> go.Figure:
    """One learning curve across all phases of a run, a vertical marker where each phase begins."""
    epochs = [row["epoch"] for row in history]
    figure = go.Figure()
    for prefix, name, dash in (("", "train", "solid"), ("val_", "validation", "dot")):
        values = [row.get(prefix + metric) for row in history]
        if any(value is not None for value in values):
            figure.add_scatter(x=epochs, y=values, mode="lines+markers", name=f"{name} {metric}", line=dict(dash=dash))
    phases = [row.get("phase") for row in history]
    for boundary, phase in zip(phase_boundaries(history), _phase_starts(phases)):
        figure.add_vline(x=boundary, line_dash="dash", line_color="grey")
        figure.add_annotation(x=boundary, y=1.0, yref="paper", text=f"phase {phase}", showarrow=False,
                              xanchor="left", font=dict(size=11, color="grey"))
    figure.update_layout(title=f"{metric.capitalize()} across phases", xaxis_title="epoch", yaxis_title=metric,
                         height=340, **_LAYOUT)
    return figure


def _phase_starts(phases: list) -> list:
    return [current for previous, current in zip(phases, phases[1:]) if current != previous]


def freeze_depth_sweep(points: list[dict[str, Any]], x: str = "trainable_params") -> go.Figure:
    """Validation accuracy against how much of the base trains; each point carries its run id (customdata)."""
    done = sorted((p for p in points if p.get("val_accuracy") is not None and p.get(x) is not None),
                  key=lambda p: p[x])
    figure = go.Figure(go.Scatter(
        x=[p[x] for p in done], y=[p["val_accuracy"] for p in done], mode="lines+markers+text",
        text=[f"from layer {p['fine_tune_at']}" if p["fine_tune_at"] is not None else "base frozen" for p in done],
        textposition="top center", customdata=[[p["run"], f"?run={p['run']}"] for p in done],
        hovertemplate="run %{customdata[0]}<br>open: %{customdata[1]}<br>validation accuracy %{y:.1%}<extra></extra>",
        marker=dict(size=10, color="#4c78a8")))
    labels = {"trainable_params": "trainable parameters", "trainable_layers": "trainable base layers"}
    figure.update_layout(title="Validation accuracy by freeze depth", xaxis_title=labels.get(x, x),
                         yaxis_title="best validation accuracy", yaxis_tickformat=".0%", height=380, **_LAYOUT)
    return figure
