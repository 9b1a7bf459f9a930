"""The freeze slider's two curves: how well the frozen base's features separate your classes at each depth (the
linear probe) and what a training step costs there, over the freeze strip's x-axis (base layer index)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT

__all__ = ["SLIDER_COLOUR", "RECOMMENDED_COLOUR", "freeze_depth_curves"]

SLIDER_COLOUR = "#1565c0"
RECOMMENDED_COLOUR = "#2e7d32"


def freeze_depth_curves(report: dict[str, Any], fine_tune_at: int | None) -> go.Figure:
    """Accuracy by depth (probe mean, error bars one fold-spread, chance dotted) above seconds per step by depth
    (the timed point filled, estimated ones hollow), sharing the x-axis [0, layer count] of `figures.freeze_strip`; the
    slider's position (None = whole base frozen) and the recommended depth marked on both."""
    from plotly.subplots import make_subplots

    probe, cost = report["probe"], report["cost"]
    layer_count = probe["layer_count"]
    rows = probe["rows"]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                           subplot_titles=("Probe accuracy of the frozen features (transferability)",
                                           "Seconds per training step"))
    figure.add_scatter(
        x=[row["fine_tune_at"] for row in rows], y=[row["accuracy"] for row in rows], mode="lines+markers",
        name="probe accuracy", line=dict(color="#6a1b9a"),
        error_y=dict(type="data", array=[row["accuracy_spread"] for row in rows], visible=True, thickness=1),
        customdata=[[row["block"], row["layer_name"], row["feature_width"], row["accuracy_spread"]] for row in rows],
        hovertemplate="freeze below %{x} (after <b>%{customdata[0]}</b>, `%{customdata[1]}`)<br>"
                      "probe accuracy %{y:.1%} ± %{customdata[3]:.1%}<br>%{customdata[2]} features<extra></extra>",
        row=1, col=1)
    figure.add_hline(y=probe["chance"], line_dash="dot", line_color="grey", annotation_text="chance",
                     annotation_position="bottom right", row=1, col=1)
    cost_rows = cost["rows"]
    memory = [row["peak_memory_bytes"] for row in cost_rows]
    figure.add_scatter(
        x=[row["fine_tune_at"] for row in cost_rows], y=[row["seconds_per_step"] for row in cost_rows],
        mode="lines+markers", name="seconds per step", line=dict(color="#ef6c00"),
        marker=dict(symbol=["circle" if row["timed"] else "circle-open" for row in cost_rows], size=8),
        customdata=[[row["trainable_params"], "timed" if row["timed"] else "estimated",
                     f"{value / 2**20:,.0f} MiB" if value else cost.get("memory_note") or "not reported"]
                    for row, value in zip(cost_rows, memory)],
        hovertemplate="freeze below %{x}: %{y:.3f} s per step (%{customdata[1]})<br>%{customdata[0]:,} trainable "
                      "parameters<br>peak memory: %{customdata[2]}<extra></extra>",
        row=2, col=1)
    slider_at = layer_count if fine_tune_at is None else fine_tune_at
    recommended = probe["recommended_fine_tune_at"]
    for row_number in (1, 2):
        figure.add_vline(x=slider_at, line_color=SLIDER_COLOUR, line_width=2, row=row_number, col=1)
        figure.add_vline(x=recommended, line_color=RECOMMENDED_COLOUR, line_dash="dash", row=row_number, col=1)
    best = next(row for row in rows if row["fine_tune_at"] == recommended)
    figure.add_scatter(x=[recommended], y=[best["accuracy"]], mode="markers", name="recommended depth",
                       marker=dict(symbol="star", size=16, color=RECOMMENDED_COLOUR),
                       hovertemplate=f"recommended: freeze below {recommended} (after {best['block']})"
                                     "<extra></extra>", row=1, col=1)
    figure.add_annotation(x=slider_at, y=1.0, yref="paper", text="slider", showarrow=False, xanchor="left",
                          font=dict(color=SLIDER_COLOUR, size=11))
    figure.add_annotation(x=0, y=1.07, xref="paper", yref="paper", text="← early: generic features",
                          showarrow=False, xanchor="left", font=dict(size=11, color="grey"))
    figure.add_annotation(x=1, y=1.07, xref="paper", yref="paper", text="later: specific features →",
                          showarrow=False, xanchor="right", font=dict(size=11, color="grey"))
    figure.update_yaxes(tickformat=".0%", row=1, col=1)
    figure.update_yaxes(rangemode="tozero", row=2, col=1)
    figure.update_xaxes(range=[0, layer_count], row=1, col=1)
    figure.update_xaxes(range=[0, layer_count], title_text="base layer index (frozen below)", row=2, col=1)
    figure.update_layout(height=420, showlegend=False, **{**LAYOUT, "margin": dict(l=10, r=10, t=60, b=40)})
    return figure
