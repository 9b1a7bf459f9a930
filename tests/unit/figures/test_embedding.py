"""The embedding map figure: WebGL traces, one per category or one colour scale, rows carried for selections."""

import plotly.graph_objects as go
import pytest

from tlcore.figures import embedding_map, selected_rows
from tlcore.figures.embedding import COLOUR_BY


def _points(n=6):
    return {"x": [float(i) for i in range(n)], "y": [float(i % 3) for i in range(n)],
            "path": [f"{i % 2}/img_{i}.png" for i in range(n)], "label": [str(i % 2) for i in range(n)],
            "split": ["train", "train", "val", "test", "test", "train"][:n], "issue_score": [i / n for i in range(n)],
            "suggested": ["1"] * n, "flagged": [i == 2 for i in range(n)], "outlier_score": [0.5] * n,
            "correct": [None, None, None, True, False, None][:n], "confidence": [None, None, None, 0.9, 0.4, None][:n]}


@pytest.mark.parametrize("colour_by", COLOUR_BY)
def test_every_point_is_drawn_once_with_its_row(colour_by):
    figure = embedding_map(_points(), colour_by, highlight=[2])
    traces = [trace for trace in figure.data if trace.name != "flagged"]
    assert all(isinstance(trace, go.Scattergl) for trace in figure.data)
    rows = sorted(row for trace in traces for row in trace.customdata)
    assert rows == list(range(6))
    for trace in traces:  # each point's position is its own row's
        assert [_points()["x"][row] for row in trace.customdata] == list(trace.x)
    assert figure.layout.dragmode == "select"


def test_categories_and_scales():
    by_class = embedding_map(_points(), "class")
    assert [trace.name for trace in by_class.data] == ["0", "1"]
    by_correct = embedding_map(_points(), "correct / wrong")
    assert [trace.name for trace in by_correct.data] == ["correct", "wrong", "no held-out prediction"]
    by_confidence = embedding_map(_points(), "confidence")
    scale = by_confidence.data[-1]
    assert list(scale.marker.color) == [0.9, 0.4] and list(scale.customdata) == [3, 4]
    assert by_confidence.data[0].name == "no held-out prediction"


def test_large_maps_stay_webgl_and_small_markers():
    n = 50_000
    points = {key: (values * (n // 6 + 1))[:n] for key, values in _points().items()}
    figure = embedding_map(points, "label-issue score")
    assert len(figure.data) == 1 and len(figure.data[0].x) == n and figure.data[0].marker.size == 4


def test_unknown_colouring_is_refused():
    with pytest.raises(ValueError, match="Colour by"):
        embedding_map(_points(), "mood")


def test_selected_rows_reads_streamlit_selection_state():
    state = {"selection": {"points": [{"customdata": 4}, {"customdata": [1]}, {"customdata": 4}, {"x": 1}],
                           "box": [], "lasso": []}}
    assert selected_rows(state) == [1, 4]
    assert selected_rows(None) == [] and selected_rows({"selection": {}}) == []
