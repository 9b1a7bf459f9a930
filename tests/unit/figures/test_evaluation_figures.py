"""tlcore.figures.evaluation: what each chart shows, read back from the plotly figure."""

import pytest

from tlcore.evaluation.calibration import calibration_summary
from tlcore.figures.evaluation import confusion_cells, overlaid_learning_curves, reliability_diagram

CLASSES = ["cat", "dog", "fox"]
MATRIX = [[2, 1, 0], [1, 2, 0], [0, 1, 3]]


def test_confusion_cells_are_square_points_carrying_their_cell():
    figure = confusion_cells(MATRIX, CLASSES)
    points = figure.data[0]

    assert points.type == "scatter" and points.marker.symbol == "square"
    assert len(points.x) == 9
    assert list(points.customdata[1])[:3] == ["cat", "dog", 1]  # true cat, predicted dog, one image
    assert (points.y[1], points.x[1], points.text[1]) == ("cat", "dog", "1")
    assert list(points.text) == ["2", "1", "0", "1", "2", "0", "0", "1", "3"]
    assert figure.layout.yaxis.autorange == "reversed" and list(figure.layout.xaxis.categoryarray) == CLASSES
    assert figure.layout.title.text == "Confusion matrix<br><sup>click a cell to see its images</sup>"


def test_row_normalised_cells_show_shares_of_the_true_class():
    points = confusion_cells(MATRIX, CLASSES, normalise=True).data[0]

    assert list(points.text[:3]) == ["67%", "33%", "0%"]
    assert points.marker.color[8] == pytest.approx(0.75)
    assert list(points.customdata[8])[:3] == ["fox", "fox", 3]  # counts stay in the hover data


def test_reliability_diagram_draws_non_empty_bins_and_the_diagonal():
    import numpy as np

    calibration = calibration_summary(np.array([[0.95, 0.05], [0.85, 0.15], [0.4, 0.6]]), np.array([0, 1, 1]))

    figure = reliability_diagram(calibration)

    bars, means, diagonal = figure.data
    assert list(bars.x) == pytest.approx([0.55, 0.85, 0.95]) and list(bars.y) == [1.0, 0.0, 1.0]
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert figure.layout.title.text == f"Reliability diagram · ECE {calibration['ece']:.3f}"


def test_overlaid_curves_give_each_run_one_colour():
    history = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4},
               {"epoch": 2, "loss": 0.7, "accuracy": 0.7, "val_loss": 0.9, "val_accuracy": 0.6}]

    figure = overlaid_learning_curves({"run-a": history, "run-b": history[:1]})

    colours = {trace.legendgroup: {t.line.color for t in figure.data if t.legendgroup == trace.legendgroup}
               for trace in figure.data}
    assert set(colours) == {"run-a", "run-b"}
    assert all(len(c) == 1 for c in colours.values()) and colours["run-a"] != colours["run-b"]
    assert len(figure.data) == 8  # 2 runs × (loss, accuracy) × (validation, train)
    assert [t.name for t in figure.data if t.showlegend] == ["run-a validation", "run-a train", "run-b validation",
                                                             "run-b train"]
