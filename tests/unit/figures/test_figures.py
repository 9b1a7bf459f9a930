"""tlcore.figures (dataset, backbones, training and prediction charts): each carries the numbers it should show."""

import pytest

from tlcore import figures
from tlcore.figures.training import phase_boundaries

HISTORY = [
    {"epoch": 1, "phase": 1, "loss": 0.9, "accuracy": 0.6, "val_loss": 0.8, "val_accuracy": 0.65},
    {"epoch": 2, "phase": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75},
    {"epoch": 3, "phase": 2, "loss": 0.4, "accuracy": 0.85, "val_loss": 0.55, "val_accuracy": 0.8},
]


def test_class_counts_bars():
    figure = figures.class_counts({"cats": 12, "dogs": 30, "7": 3})

    bar = figure.data[0]
    assert list(bar.x) == ["cats", "dogs", "7"] and list(bar.y) == [12, 30, 3]
    assert list(bar.text) == ["12", "30", "3"]
    assert figure.layout.xaxis.type == "category"  # class "7" is a name, not a number
    assert figure.layout.title.text == "Images per class"


def test_split_counts_groups_bars_and_totals_each_split():
    figure = figures.split_counts({"train": {"a": 7, "b": 3}, "val": {"a": 2, "b": 1}, "test": {"a": 1, "b": 1}})

    assert [trace.name for trace in figure.data] == ["train (10)", "val (3)", "test (2)"]
    assert list(figure.data[0].y) == [7, 3]
    assert figure.layout.barmode == "group"


def test_phase_boundaries_lie_between_phases():
    assert phase_boundaries([{"epoch": 1, "phase": 1}, {"epoch": 2, "phase": 2}]) == [1.5]
    assert phase_boundaries(HISTORY) == [1.5]
    assert phase_boundaries(HISTORY[1:]) == []
    assert phase_boundaries([{"epoch": e, "phase": p} for e, p in ((1, 1), (2, 1), (3, 2), (4, 3))]) == \
        [2.5, 3.5]


def test_learning_curves_plot_each_metric_with_a_line_where_fine_tuning_starts():
    figure = figures.learning_curves(HISTORY)

    traces = {trace.name: trace for trace in figure.data}
    assert set(traces) == {"train loss", "validation loss", "train accuracy", "validation accuracy"}
    assert list(traces["validation accuracy"].y) == [0.65, 0.75, 0.8]
    assert list(traces["train loss"].x) == [1, 2, 3]
    vertical_lines = [shape for shape in figure.layout.shapes if shape.type == "line"]
    assert len(vertical_lines) == 2  # one in each subplot
    assert {(shape.x0, shape.x1) for shape in vertical_lines} == {(1.5, 1.5)}
    assert [a.text for a in figure.layout.annotations if a.text == "fine-tuning starts"] == ["fine-tuning starts"]


def test_learning_curves_without_validation_or_phases():
    history = [{"epoch": 1, "phase": 1, "loss": 0.9, "accuracy": 0.6, "val_loss": None, "val_accuracy": None}]

    figure = figures.learning_curves(history)

    assert sorted(trace.name for trace in figure.data) == ["train accuracy", "train loss"]
    assert len(figure.layout.shapes) == 0


def test_top_k_puts_the_most_likely_class_on_top():
    figure = figures.top_k([("dog", 0.7), ("cat", 0.2), ("fox", 0.1)], title="photo.jpg")

    bar = figure.data[0]
    # Plotly draws the first category at the bottom of a horizontal bar chart.
    assert list(bar.y) == ["fox", "cat", "dog"]
    assert list(bar.x) == pytest.approx([0.1, 0.2, 0.7])
    assert list(bar.text) == ["10.0%", "20.0%", "70.0%"]
    assert bar.orientation == "h" and tuple(figure.layout.xaxis.range) == (0, 1)


def test_published_scatter_leaves_out_backbones_without_both_figures():
    rows = [{"name": "A", "cpu_ms": 10.0, "top1": 0.7}, {"name": "B", "cpu_ms": None, "top1": 0.8},
            {"name": "C", "cpu_ms": 30.0, "top1": None}, {"name": "D", "cpu_ms": 50.0, "top1": 0.9}]

    figure = figures.published_scatter(rows)

    plotted = sorted(name for trace in figure.data for name in trace.text)
    assert plotted == ["A", "D"]
