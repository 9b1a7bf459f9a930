"""The labeling curve: held-out accuracy of the instant model against the number of labeled training images."""

from __future__ import annotations

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT

__all__ = ["labeling_curve"]


def labeling_curve(points: list[tuple[int, float]]) -> go.Figure:
    """One marker per instant model made, in the order they were made (x: its training images)."""
    labeled = [count for count, _ in points]
    accuracy = [100 * value for _, value in points]
    figure = go.Figure(go.Scatter(x=labeled, y=accuracy, mode="lines+markers", name="instant model",
                                  hovertemplate="%{x:,} labeled images<br>accuracy %{y:.1f} %<extra></extra>"))
    figure.update_layout(**LAYOUT, title="Accuracy as images are labeled", xaxis_title="labeled training images",
                         yaxis_title="held-out accuracy (%)", yaxis_range=[0, 100])
    return figure
