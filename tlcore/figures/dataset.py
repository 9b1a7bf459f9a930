"""Charts of the Dataset page: images per class and per split, and the health report's sizes and colour modes."""

from __future__ import annotations

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT, plain, plain_all

__all__ = ["size_histograms", "mode_counts", "class_counts", "split_counts"]

_SUBPLOT_LAYOUT = {**LAYOUT, "margin": dict(l=10, r=10, t=60, b=10)}  # room for subplot titles


def size_histograms(sizes: dict[str, list[float]]) -> go.Figure:
    """Width, height and aspect ratio (width / height) of every readable image, side by side."""
    from plotly.subplots import make_subplots

    panels = (("width", "Width (px)"), ("height", "Height (px)"), ("aspect", "Aspect ratio (w / h)"))
    figure = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title in panels])
    for column, (key, title) in enumerate(panels, start=1):
        figure.add_histogram(x=sizes.get(key, []), name=title, nbinsx=30, marker_color="#4c78a8", row=1, col=column)
        figure.update_yaxes(title_text="images" if column == 1 else None, row=1, col=column)
    figure.update_layout(title="Image sizes", showlegend=False, bargap=0.05, **_SUBPLOT_LAYOUT)
    return figure


def mode_counts(modes: dict[str, int]) -> go.Figure:
    """Stored colour modes (RGB, L, RGBA, P, I;16, CMYK, …); every one is converted to RGB the same way."""
    ordered = sorted(modes.items(), key=lambda item: -item[1])
    figure = go.Figure(go.Bar(x=[mode for mode, _ in ordered], y=[count for _, count in ordered],
                              text=[count for _, count in ordered], textposition="outside", marker_color="#f58518"))
    figure.update_layout(title="Colour modes as stored (all converted to RGB)", xaxis_type="category",
                         xaxis_title="mode", yaxis_title="images", **_SUBPLOT_LAYOUT)
    return figure


def class_counts(counts: dict[str, int], title: str = "Images per class") -> go.Figure:
    figure = go.Figure(go.Bar(x=plain_all(counts), y=list(counts.values()), text=list(counts.values()),
                              textposition="outside", marker_color="#4c78a8"))
    figure.update_layout(title=title, xaxis_title="class", yaxis_title="images", xaxis_type="category", **LAYOUT)
    return figure


def split_counts(counts: dict[str, dict[str, int]]) -> go.Figure:
    """Grouped bars: per class, how many images each split holds."""
    figure = go.Figure()
    for split_name, per_class in counts.items():
        figure.add_bar(name=f"{split_name} ({sum(per_class.values())})", x=plain_all(per_class), y=list(per_class.values()))
    figure.update_layout(title="Images per class in each split", barmode="group", xaxis_type="category",
                         xaxis_title="class", yaxis_title="images", **LAYOUT)
    return figure
