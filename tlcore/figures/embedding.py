"""The embedding map: every image as a point of a WebGL scatter (Scattergl, usable at 50k points), coloured by
class, split, correct/wrong, confidence or label-issue score. Each point carries its row index (`customdata`), so a
box or lasso selection on the page names the images it covers whatever trace they are in."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from tlcore.figures.style import LAYOUT, plain, plain_all

__all__ = ["COLOUR_BY", "CATEGORICAL", "NUMERIC", "embedding_map", "selected_rows"]

CATEGORICAL = {"class": "label", "split": "split", "correct / wrong": "correct"}
NUMERIC = {"confidence": "confidence", "label-issue score": "issue_score", "outlier score": "outlier_score"}
COLOUR_BY = (*CATEGORICAL, *NUMERIC)
_MISSING = "no held-out prediction"
_LARGE = 5_000  # above this many points the markers shrink and lose their outline: WebGL stays fluid at 50k


def _hover(points: dict[str, list], rows: list[int]) -> list[str]:
    return [f"{plain(points['path'][i])}<br>class {plain(points['label'][i])} · {plain(points['split'][i])}"
            f"<br>issue score {points['issue_score'][i]:.2f} (suggested {plain(points['suggested'][i])})"
            for i in rows]


def embedding_map(points: dict[str, list], colour_by: str = "class", title: str = "Dataset in feature space",
                  highlight: list[int] | None = None) -> go.Figure:
    """Scatter of `points` (the `embedding_map` task's columns: x, y, path, label, split, issue_score, …).

    Categorical colourings get one trace per value (a legend to hide classes); numeric ones one trace with a colour
    scale, points without a value (confidence outside the held-out split) in grey. `highlight` rings rows, e.g.
    flagged label issues.
    """
    if colour_by not in COLOUR_BY:
        raise ValueError(f"Colour by one of {', '.join(COLOUR_BY)}, not '{colour_by}'.")
    count = len(points["x"])
    size = 4 if count > _LARGE else 7
    marker_line = {} if count > _LARGE else {"line": {"width": 0.5, "color": "white"}}
    figure = go.Figure()
    if colour_by in CATEGORICAL:
        column = points.get(CATEGORICAL[colour_by]) or [None] * count
        values = ["wrong" if v is False else "correct" if v is True else _MISSING for v in column] \
            if colour_by == "correct / wrong" else [str(v) for v in column]
        for value in sorted(set(values), key=lambda v: (v == _MISSING, v)):
            rows = [i for i, v in enumerate(values) if v == value]
            figure.add_trace(_trace(points, rows, value, {"size": size, **marker_line,
                                                          **({"color": "#c8c8c8"} if value == _MISSING else {})}))
    else:
        column = points.get(NUMERIC[colour_by]) or [None] * count
        rows = [i for i, v in enumerate(column) if v is not None]
        missing = [i for i, v in enumerate(column) if v is None]
        if missing:
            figure.add_trace(_trace(points, missing, _MISSING, {"size": size, "color": "#c8c8c8", **marker_line}))
        figure.add_trace(_trace(points, rows, colour_by, {
            "size": size, **marker_line, "color": [column[i] for i in rows], "colorscale": "Viridis",
            "colorbar": {"title": {"text": colour_by}}, "showscale": True}))
    if highlight:
        figure.add_trace(go.Scattergl(x=[points["x"][i] for i in highlight], y=[points["y"][i] for i in highlight],
                                      mode="markers", name="flagged", customdata=list(highlight),
                                      hovertext=_hover(points, list(highlight)), hoverinfo="text",
                                      marker={"size": size + 6, "color": "rgba(0,0,0,0)",
                                              "line": {"width": 1.5, "color": "#d62728"}}))
    figure.update_layout(title=title, dragmode="select", legend={"itemsizing": "constant"},
                         xaxis={"showticklabels": False, "title": None}, yaxis={"showticklabels": False, "title": None},
                         height=600, **LAYOUT)
    return figure


def _trace(points: dict[str, list], rows: list[int], name: str, marker: dict[str, Any]) -> go.Scattergl:
    return go.Scattergl(x=[points["x"][i] for i in rows], y=[points["y"][i] for i in rows], mode="markers",
                        name=name, customdata=rows, hovertext=_hover(points, rows), hoverinfo="text", marker=marker)


def selected_rows(selection: dict | None) -> list[int]:
    """Row indices of the points a plotly selection event covers (Streamlit's `on_select` state), sorted, unique."""
    points = ((selection or {}).get("selection") or {}).get("points") or []
    rows = set()
    for point in points:
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if data is not None:
            rows.add(int(data))
    return sorted(rows)
