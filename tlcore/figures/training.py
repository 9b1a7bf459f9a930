"""Charts of training: learning curves (across phases), the freeze-depth strip, the LR finder and the sweep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from tlcore.backbones.catalog import layer_table
from tlcore.backbones.freeze_blocks import blocks
from tlcore.figures.style import LAYOUT

__all__ = [
    "FROZEN_COLOUR", "TRAINABLE_COLOUR", "StripSegment", "freeze_segments", "freeze_strip", "learning_curves",
    "phase_boundaries", "lr_finder_curve", "phase_curves", "freeze_depth_sweep"
]

FROZEN_COLOUR = "#9aa5b1"
TRAINABLE_COLOUR = "#2e7d32"


@dataclass(frozen=True)
class StripSegment:
    """A run of base layers in one block that is wholly frozen or wholly trainable."""

    block: str
    first_layer: int
    last_layer: int
    trains: bool
    params: int  # all parameters of these layers
    trainable_params: int  # those that will train (0 when frozen), BatchNorm's gamma and beta included


def freeze_segments(backbone_name: str, fine_tune_at: int | None) -> list[StripSegment]:
    """Each block split at `fine_tune_at` (None = whole base frozen) into its frozen and trainable parts."""
    rows = layer_table(backbone_name).layers
    boundary = len(rows) if fine_tune_at is None else max(0, min(fine_tune_at, len(rows)))
    segments = []
    for block in blocks(backbone_name):
        for first, last, trains in ((block.first_layer, min(block.last_layer, boundary - 1), False),
                                    (max(block.first_layer, boundary), block.last_layer, True)):
            if first > last:
                continue
            layers = rows[first:last + 1]
            params = sum(row.trainable + row.non_trainable for row in layers)
            trainable = sum(row.trainable for row in layers)
            segments.append(StripSegment(block.name, first, last, trains, params, trainable if trains else 0))
    return segments


def _short(count: int) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:.1f}{suffix}"
    return str(count)


def freeze_strip(backbone_name: str, fine_tune_at: int | None) -> go.Figure:
    """The base as one horizontal strip over its layer indices, a bar per block part, grey frozen / green trainable,
    labelled with the block name and its parameter count."""
    segments = freeze_segments(backbone_name, fine_tune_at)
    figure = go.Figure()
    for trains, name, colour in ((False, "frozen", FROZEN_COLOUR), (True, "trainable", TRAINABLE_COLOUR)):
        part = [segment for segment in segments if segment.trains == trains]
        figure.add_trace(go.Bar(
            name=name, orientation="h", y=["base"] * len(part), marker_color=colour,
            base=[segment.first_layer for segment in part],
            x=[segment.last_layer - segment.first_layer + 1 for segment in part],
            text=[f"{segment.block}<br>{_short(segment.params)}" for segment in part],
            customdata=[[segment.block, segment.first_layer, segment.last_layer, segment.params,
                         segment.trainable_params] for segment in part],
            hovertemplate="<b>%{customdata[0]}</b> · layers %{customdata[1]}–%{customdata[2]}<br>"
                          "%{customdata[3]:,} parameters, %{customdata[4]:,} trainable<extra>" + name + "</extra>",
            marker_line_color="white", marker_line_width=1, textposition="inside", insidetextanchor="middle",
        ))
    figure.update_layout(barmode="overlay", height=170, margin=dict(l=10, r=10, t=30, b=40),
                         uniformtext=dict(minsize=9, mode="hide"), legend=dict(orientation="h", y=1.25, x=0),
                         xaxis=dict(title="base layer index", range=[0, len(layer_table(backbone_name).layers)]),
                         yaxis=dict(visible=False))
    return figure


def learning_curves(history: list[dict[str, Any]]) -> go.Figure:
    """Loss and accuracy per epoch across all phases, with a dashed line where each new phase begins."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    epochs = [row["epoch"] for row in history]
    for column, (metric, label) in enumerate((("loss", "Loss"), ("accuracy", "Accuracy")), start=1):
        for prefix, name, dash in (("", "train", "solid"), ("val_", "validation", "dot")):
            values = [row.get(prefix + metric) for row in history]
            if any(value is not None for value in values):
                figure.add_scatter(x=epochs, y=values, mode="lines+markers", name=f"{name} {metric}",
                                   line=dict(dash=dash), row=1, col=column)
    for boundary in phase_boundaries(history):
        for column in (1, 2):
            figure.add_vline(x=boundary, line_dash="dash", line_color="grey", row=1, col=column)
        figure.add_annotation(x=boundary, y=1.0, yref="paper", text="fine-tuning starts", showarrow=False,
                              xanchor="left", font=dict(size=11, color="grey"))
    figure.update_xaxes(title_text="epoch", dtick=1 if len(epochs) <= 20 else None)
    figure.update_layout(title="Learning curves", height=360, **LAYOUT)
    return figure


def phase_boundaries(history: list[dict[str, Any]]) -> list[float]:
    """x positions halfway between the last epoch of one phase and the first of the next."""
    boundaries = []
    for previous, current in zip(history, history[1:]):
        if current.get("phase") != previous.get("phase"):
            boundaries.append((previous["epoch"] + current["epoch"]) / 2)
    return boundaries


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
                         yaxis_title="training loss", yaxis_range=[0, top], height=360, **LAYOUT)
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
                         height=340, **LAYOUT)
    return figure


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
                         yaxis_title="best validation accuracy", yaxis_tickformat=".0%", height=380, **LAYOUT)
    lowest = min((p["val_accuracy"] for p in done), default=0.0)
    # accuracy never exceeds 100 %: the axis stops there (a little headroom for the point labels above it)
    figure.update_yaxes(range=[max(0.0, lowest - 0.1), 1.05], tickvals=[v / 10 for v in range(11)])
    return figure


def _phase_starts(phases: list) -> list:
    return [current for previous, current in zip(phases, phases[1:]) if current != previous]
