"""Plotly figures of the Train and Fine-tune pages (freeze depth); every function returns a figure, no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from tlcore.backbones.freeze_blocks import BATCHNORM_KINDS, blocks
from tlcore.backbones.catalog import layer_table

__all__ = ["FROZEN_COLOUR", "TRAINABLE_COLOUR", "StripSegment", "freeze_segments", "freeze_strip"]

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
    trainable_params: int  # those that will train (0 when frozen)


def freeze_segments(backbone_name: str, fine_tune_at: int | None, pretrained: bool = True) -> list[StripSegment]:
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
            trainable = sum(row.trainable for row in layers if not (pretrained and row.kind in BATCHNORM_KINDS))
            segments.append(StripSegment(block.name, first, last, trains, params, trainable if trains else 0))
    return segments


def _short(count: int) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:.1f}{suffix}"
    return str(count)


def freeze_strip(backbone_name: str, fine_tune_at: int | None, pretrained: bool = True) -> go.Figure:
    """The base as one horizontal strip over its layer indices, a bar per block part, grey frozen / green trainable,
    labelled with the block name and its parameter count."""
    segments = freeze_segments(backbone_name, fine_tune_at, pretrained)
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
