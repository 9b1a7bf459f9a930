"""Evaluate page: a run's stored test report as metrics, confusion matrix and a per-class table."""

import json

import numpy as np
import pandas as pd

from page_helpers import by_label, make_run, metric_value, texts
from tlcore.evaluate import classification_report

CLASSES = ["cat", "dog", "fox"]
# Seven of nine right: one dog taken for a cat, one fox for a dog.
Y_TRUE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBABILITIES = np.array([
    [.8, .1, .1], [.7, .2, .1], [.6, .3, .1],
    [.5, .4, .1], [.2, .7, .1], [.1, .8, .1],
    [.1, .6, .3], [.1, .2, .7], [.2, .1, .7],
])


def _report(split_name: str = "test") -> dict:
    return classification_report(Y_TRUE, PROBABILITIES, CLASSES, split_name)


def test_without_an_evaluated_run_shows_the_info(open_page):
    make_run(state="running")  # no eval/test.json yet

    at = open_page("pages/evaluate.py")

    assert any(text.startswith("No evaluated run yet") for text in texts(at.info))
    assert not at.metric


def test_report_is_shown_as_metrics_and_per_class_table(open_page):
    report = _report()
    run = make_run(state="finished", evaluation=report, class_names=CLASSES)

    at = open_page("pages/evaluate.py")

    assert by_label(at.selectbox, "Run").value == run.id
    assert report["accuracy"] == 7 / 9
    assert metric_value(at, "Test accuracy") == f"{report['accuracy']:.1%}" == "77.8%"
    assert metric_value(at, "Test loss") == f"{report['loss']:.3f}"
    assert metric_value(at, "Images") == "9"
    per_class: pd.DataFrame = at.dataframe[0].value
    assert per_class["class"].tolist() == CLASSES
    assert per_class["support"].tolist() == [3, 3, 3]
    assert per_class.set_index("class").loc["cat", "recall"] == 1.0
    assert per_class.set_index("class").loc["fox", "precision"] == 1.0
    assert len(at.get("plotly_chart")) == 1  # the confusion matrix; no history, so no learning curves


def test_validation_report_is_labelled_as_such(open_page):
    make_run(state="finished", evaluation=_report("validation"))

    at = open_page("pages/evaluate.py")

    assert metric_value(at, "Validation (no test split) accuracy") == "77.8%"


def _chart_titles(at) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_normalise_toggle_redraws_the_confusion_matrix(open_page):
    make_run(state="finished", evaluation=_report(),
             history=[{"epoch": 1, "phase": "head", "loss": 1.0, "accuracy": 0.5},
                      {"epoch": 2, "phase": "fine-tune", "loss": 0.6, "accuracy": 0.8}])
    at = open_page("pages/evaluate.py")
    assert _chart_titles(at) == ["Confusion matrix", "Learning curves"]

    by_label(at.toggle, "Row-normalised (share of each true class)").set_value(True).run()

    assert not at.exception
    assert _chart_titles(at) == ["Confusion matrix (row-normalised)", "Learning curves"]
    cells = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["text"]
    assert cells[1] == ["33%", "67%", "0%"]  # true dog: one of three taken for a cat
