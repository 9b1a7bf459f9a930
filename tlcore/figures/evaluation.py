"""Plotly figures of the Evaluate page: a clickable confusion matrix, reliability diagrams (before and after
temperature scaling), the accuracy/coverage curve of the reject option, and learning curves of several runs overlaid."""

from __future__ import annotations

from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT, plain, plain_all

__all__ = [
    "CELL_PX", "CELL_COLOURS", "TEXT_COLOUR", "confusion_cells", "reliability_diagram", "coverage_curve",
    "overlaid_learning_curves"
]

CELL_PX = 44  # height per class row; the square markers fill most of it
CELL_COLOURS = [[0.0, "#f7fbff"], [1.0, "#5aa0d8"]]  # light enough for dark text in every cell
TEXT_COLOUR = "#1f2328"


def confusion_cells(matrix: list[list[int]], class_names: list[str], normalise: bool = False) -> go.Figure:
    """The confusion matrix drawn as one square marker per cell, so a click selects a cell.

    (Streamlit returns no selection for plotly heatmaps; scatter points it does.) Each point's customdata is
    [true class, predicted class, count]; colour and text are counts, or shares of the true class when normalised.
    """
    xs, ys, values, text, custom = [], [], [], [], []
    for t, row in enumerate(matrix):
        total = sum(row)
        for p, count in enumerate(row):
            value = (count / total if total else 0.0) if normalise else float(count)
            xs.append(plain(class_names[p]))
            ys.append(plain(class_names[t]))
            values.append(value)
            text.append(f"{value:.0%}" if normalise else str(int(count)))
            custom.append([class_names[t], class_names[p], int(count), plain(class_names[t]), plain(class_names[p])])
    size = CELL_PX - 6
    top = 1.0 if normalise else max(max(values, default=1.0), 1.0)
    figure = go.Figure(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=text, customdata=custom, textfont=dict(size=12, color=TEXT_COLOUR),
        marker=dict(symbol="square", size=size, color=values, colorscale=CELL_COLOURS, showscale=True,
                    cmin=0, cmax=top,
                    line=dict(width=1, color="#d0d7de")),
        # a clicked cell must not fade the others (plotly's default for unselected points)
        selected=dict(marker=dict(opacity=1.0), textfont=dict(color=TEXT_COLOUR)),
        unselected=dict(marker=dict(opacity=1.0), textfont=dict(color=TEXT_COLOUR)),
        hovertemplate="true %{customdata[3]}<br>predicted %{customdata[4]}<br>%{customdata[2]} image(s)"
                      "<extra>click to see them</extra>"))
    figure.update_layout(
        title="Confusion matrix" + (" (row-normalised)" if normalise else "") +
              "<br><sup>click a cell to see its images</sup>",
        xaxis=dict(title="predicted", type="category", categoryorder="array", categoryarray=plain_all(class_names),
                   showgrid=False),
        yaxis=dict(title="true", type="category", categoryorder="array", categoryarray=plain_all(class_names),
                   autorange="reversed", showgrid=False),
        clickmode="event+select", dragmode=False, height=140 + CELL_PX * len(class_names),
        width=max(560, 220 + int(CELL_PX * 1.5) * len(class_names)), **LAYOUT)
    return figure


def reliability_diagram(calibration: dict[str, Any], title: str = "Reliability diagram") -> go.Figure:
    """Accuracy against confidence per bin, with the diagonal a perfectly calibrated model would follow."""
    bins = [row for row in calibration["bins"] if row["images"]]
    width = 1.0 / calibration["n_bins"]
    figure = go.Figure()
    figure.add_bar(x=[(row["lower"] + row["upper"]) / 2 for row in bins], y=[row["accuracy"] for row in bins],
                   width=width * 0.95, name="accuracy in bin", marker_color="#4c78a8",
                   customdata=[[row["images"], row["confidence"]] for row in bins],
                   hovertemplate="accuracy %{y:.1%}<br>mean confidence %{customdata[1]:.1%}"
                                 "<br>%{customdata[0]} image(s)<extra></extra>")
    figure.add_scatter(x=[row["confidence"] for row in bins], y=[row["accuracy"] for row in bins], mode="markers",
                       name="mean confidence", marker=dict(color="#e45756", size=8, symbol="diamond"))
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                       line=dict(color="grey", dash="dash"))
    figure.update_layout(title=f"{title} · ECE {calibration['ece']:.3f}",
                         xaxis=dict(title="confidence (top-1 probability)", range=[0, 1], tickformat=".0%"),
                         yaxis=dict(title="accuracy", range=[0, 1.02], tickformat=".0%"),
                         height=380, legend=dict(orientation="h", y=-0.2), **LAYOUT)
    return figure


def coverage_curve(curve: list[dict[str, Any]], chosen: dict[str, Any]) -> go.Figure:
    """Accuracy on the answers given against the share of images answered, one point per threshold (validation),
    with the user's target and the threshold chosen for it."""
    figure = go.Figure()
    figure.add_scatter(x=[point["coverage"] for point in curve], y=[point["accuracy"] for point in curve],
                       mode="lines+markers", name="answer when confidence ≥ threshold", line=dict(color="#4c78a8"),
                       customdata=[[point["threshold"], point["answered"]] for point in curve],
                       hovertemplate="threshold %{customdata[0]:.3f}<br>%{customdata[1]} answered (%{x:.0%})"
                                     "<br>%{y:.1%} of them right<extra></extra>")
    target = chosen["target_accuracy"]
    figure.add_scatter(x=[0, 1], y=[target, target], mode="lines", name=f"target {target:.0%}",
                       line=dict(color="grey", dash="dash"))
    if chosen.get("threshold") is not None:
        figure.add_scatter(x=[chosen["coverage"]], y=[chosen["accuracy"]], mode="markers", name=(
            f"chosen: not sure below {chosen['threshold']:.3f}"), marker=dict(color="#e45756", size=14,
                                                                               symbol="star"))
    low = min([point["accuracy"] for point in curve] + [target])
    figure.update_layout(title="Accuracy on the answers given vs. share answered (validation)",
                         xaxis=dict(title="coverage (share of images answered)", range=[0, 1.02], tickformat=".0%"),
                         yaxis=dict(title="accuracy of the answers", range=[max(0.0, low - 0.05), 1.02],
                                    tickformat=".0%"),
                         height=380, legend=dict(orientation="h", y=-0.25), **LAYOUT)
    return figure


def overlaid_learning_curves(histories: dict[str, list[dict[str, Any]]]) -> go.Figure:
    """Loss and accuracy per epoch of several runs: one colour per run, validation solid, training dotted."""
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    palette = px.colors.qualitative.Plotly
    for index, (run_id, history) in enumerate(histories.items()):
        colour = palette[index % len(palette)]
        epochs = [row["epoch"] for row in history]
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            for prefix, split_name, dash in (("val_", "validation", "solid"), ("", "train", "dot")):
                values = [row.get(prefix + metric) for row in history]
                if any(value is not None for value in values):
                    figure.add_scatter(x=epochs, y=values, mode="lines+markers", name=f"{run_id} {split_name}",
                                       legendgroup=run_id, showlegend=column == 1,
                                       line=dict(color=colour, dash=dash), row=1, col=column)
    figure.update_xaxes(title_text="epoch")
    figure.update_layout(title="Learning curves of the compared runs", height=380,
                         legend=dict(orientation="h", y=-0.25), **LAYOUT)
    return figure
