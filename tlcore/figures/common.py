"""Every chart in the app, as functions returning plotly figures (so they are unit-tested without a browser)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

__all__ = ["class_counts", "split_counts", "learning_curves", "phase_boundaries", "confusion_matrix", "top_k", "pareto_front", "published_scatter"]

_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white")


def class_counts(counts: dict[str, int], title: str = "Images per class") -> go.Figure:
    figure = go.Figure(go.Bar(x=list(counts), y=list(counts.values()), text=list(counts.values()),
                              textposition="outside", marker_color="#4c78a8"))
    figure.update_layout(title=title, xaxis_title="class", yaxis_title="images", xaxis_type="category", **_LAYOUT)
    return figure


def split_counts(counts: dict[str, dict[str, int]]) -> go.Figure:
    """Grouped bars: per class, how many images each split holds."""
    figure = go.Figure()
    for split_name, per_class in counts.items():
        figure.add_bar(name=f"{split_name} ({sum(per_class.values())})", x=list(per_class), y=list(per_class.values()))
    figure.update_layout(title="Images per class in each split", barmode="group", xaxis_type="category",
                         xaxis_title="class", yaxis_title="images", **_LAYOUT)
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
    figure.update_layout(title="Learning curves", height=360, **_LAYOUT)
    return figure


def phase_boundaries(history: list[dict[str, Any]]) -> list[float]:
    """x positions halfway between the last epoch of one phase and the first of the next."""
    boundaries = []
    for previous, current in zip(history, history[1:]):
        if current.get("phase") != previous.get("phase"):
            boundaries.append((previous["epoch"] + current["epoch"]) / 2)
    return boundaries


def confusion_matrix(matrix: list[list[int]], class_names: list[str], normalise: bool = False) -> go.Figure:
    """Heatmap with true classes down and predicted across; counts (or row shares) written in each cell."""
    values = [[float(v) for v in row] for row in matrix]
    if normalise:
        values = [[v / sum(row) if sum(row) else 0.0 for v in row] for row in values]
    text = [[f"{v:.0%}" if normalise else f"{int(v)}" for v in row] for row in values]
    figure = go.Figure(go.Heatmap(z=values, x=class_names, y=class_names, text=text, texttemplate="%{text}",
                                  colorscale="Blues", hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    figure.update_layout(title="Confusion matrix" + (" (row-normalised)" if normalise else ""),
                         xaxis_title="predicted", yaxis_title="true", xaxis_type="category", yaxis_type="category",
                         yaxis_autorange="reversed", height=120 + 40 * len(class_names), **_LAYOUT)
    return figure


def top_k(prediction: list[tuple[str, float]], title: str = "") -> go.Figure:
    """Horizontal bars of class probabilities, the most likely on top."""
    classes = [name for name, _ in prediction][::-1]
    probabilities = [p for _, p in prediction][::-1]
    figure = go.Figure(go.Bar(x=probabilities, y=classes, orientation="h", text=[f"{p:.1%}" for p in probabilities],
                              textposition="auto", marker_color="#54a24b"))
    figure.update_layout(title=title, xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis_type="category",
                         height=80 + 30 * len(classes), **_LAYOUT)
    return figure


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
                         legend=dict(orientation="h", y=-0.15), **_LAYOUT)
    return figure
