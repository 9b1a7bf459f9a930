"""Plotly chart of the Demo page: the top classes as large bars, readable on a phone and from the back of a room."""

from __future__ import annotations

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT, plain, plain_all

__all__ = ["DEMO_FONT_PX", "answer_bars"]

DEMO_FONT_PX = 24
_SURE, _UNSURE, _REST = "#2e7d32", "#9e9e9e", "#90caf9"


def answer_bars(top: list[tuple[str, float]], threshold: float | None = None, not_sure: bool = False) -> go.Figure:
    """Horizontal bars of calibrated probabilities, most likely on top; the run's "not sure" threshold as a line."""
    classes = [plain(name) for name, _ in top][::-1]
    probabilities = [p for _, p in top][::-1]
    colours = [_REST] * len(top)
    if colours:
        colours[-1] = _UNSURE if not_sure else _SURE
    figure = go.Figure(go.Bar(x=probabilities, y=classes, orientation="h", marker_color=colours,
                              text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                              textfont=dict(size=DEMO_FONT_PX), cliponaxis=False,
                              hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    if threshold:
        figure.add_vline(x=threshold, line=dict(color="#e45756", dash="dash", width=3),
                         annotation=dict(text="not sure below", font=dict(size=DEMO_FONT_PX * 2 // 3)),
                         annotation_position="top")
    figure.update_layout(xaxis=dict(range=[0, 1.18], tickformat=".0%", tickfont=dict(size=DEMO_FONT_PX * 2 // 3)),
                         yaxis=dict(type="category", tickfont=dict(size=DEMO_FONT_PX)),
                         height=120 + 70 * len(classes), showlegend=False, bargap=0.25,
                         **{**LAYOUT, "margin": dict(l=10, r=10, t=40, b=10)})
    return figure
