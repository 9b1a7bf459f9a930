"""Charts of calibrated confidence: the accuracy/coverage curve with its target and chosen threshold, reliability
diagrams named before/after, and the Demo page's large answer bars."""

import pytest

from tlcore.evaluation.reject import choose_threshold, coverage_curve
from tlcore.figures import answer_bars, reliability_diagram
from tlcore.figures import coverage_curve as coverage_figure

CONFIDENCE = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
CORRECT = [True, True, True, False, True, False]


def test_the_coverage_curve_shows_every_threshold_the_target_and_the_choice():
    curve = coverage_curve(CONFIDENCE, CORRECT)
    chosen = choose_threshold(CONFIDENCE, CORRECT, 0.75, level=None)  # the plain rule: a readable choice

    figure = coverage_figure(curve, chosen)

    line, target, star = figure.data
    assert list(line.x) == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])
    assert list(line.y) == pytest.approx([1, 1, 1, 0.75, 0.8, 4 / 6])
    assert [row[0] for row in line.customdata] == CONFIDENCE
    assert list(target.y) == [0.75, 0.75] and target.name == "target 75%"
    assert (star.x[0], star.y[0]) == (pytest.approx(5 / 6), pytest.approx(0.8))
    assert star.name == "chosen: not sure below 0.650"


def test_without_a_threshold_there_is_no_chosen_point():
    figure = coverage_figure(coverage_curve([], []), choose_threshold([], [], 0.9))

    assert [trace.name for trace in figure.data] == ["answer when confidence ≥ threshold", "target 90%"]


def test_reliability_diagrams_say_before_or_after():
    calibration = {"n_bins": 2, "ece": 0.125, "bins": [
        {"lower": 0.0, "upper": 0.5, "images": 0, "accuracy": None, "confidence": None},
        {"lower": 0.5, "upper": 1.0, "images": 4, "accuracy": 0.75, "confidence": 0.875}]}

    assert reliability_diagram(calibration).layout.title.text == "Reliability diagram · ECE 0.125"
    assert reliability_diagram(calibration, "After temperature scaling").layout.title.text == \
        "After temperature scaling · ECE 0.125"


def test_answer_bars_are_large_most_likely_on_top_with_the_threshold_line():
    figure = answer_bars([("7", 0.6), ("1", 0.3), ("9", 0.1)], threshold=0.7, not_sure=True)

    bars = figure.data[0]
    assert list(bars.y) == ["9", "1", "7"] and list(bars.text) == ["10%", "30%", "60%"]
    assert bars.textfont.size >= 20 and figure.layout.yaxis.tickfont.size >= 20
    assert bars.marker.color[-1] == "#9e9e9e"  # grey: below the threshold, "not sure"
    assert figure.layout.shapes[0].x0 == 0.7
    assert answer_bars([("7", 0.9)]).data[0].marker.color[-1] == "#2e7d32" and not answer_bars([("7", 0.9)]).layout.shapes
