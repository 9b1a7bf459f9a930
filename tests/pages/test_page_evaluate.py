"""Evaluate page: a run's stored report and predictions as metrics, a confusion matrix whose cells show their images,
top losses, calibration, per-class table, compared runs and the best-run mark; older runs offer a re-evaluation."""

import json

import numpy as np
import pandas as pd
from page_helpers import by_label, make_run, metric_value, texts

from tlcore.config.training import TrainConfig
from tlcore.evaluation.metrics import classification_report, store_evaluation

CLASSES = ["cat", "dog", "fox"]
# Seven of nine right: one dog taken for a cat, one fox for a dog.
Y_TRUE = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
PROBABILITIES = np.array([
    [.8, .1, .1], [.7, .2, .1], [.6, .3, .1],
    [.5, .4, .1], [.2, .7, .1], [.1, .8, .1],
    [.1, .6, .3], [.1, .2, .7], [.2, .1, .7],
])
HISTORY = [{"epoch": 1, "phase": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45},
           {"epoch": 2, "phase": 2, "loss": 0.6, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.75}]


def _files(studio) -> list[str]:
    """Nine real images of the sample digits (classes 0, 1, 2 stand in for cat, dog, fox)."""
    folder = studio.data_root / "sample-digits"
    return [f"{d}/{path.name}" for d in "012" for path in sorted((folder / d).glob("*.png"))[:3]]


def _report(split_name: str = "test", files=None) -> dict:
    return classification_report(Y_TRUE, PROBABILITIES, CLASSES, split_name, files=files)


def _evaluated_run(studio, config=None, history=None):
    """A run as training leaves it now: report and per-image predictions stored."""
    run = make_run(config, state="finished", class_names=CLASSES, history=history)
    store_evaluation(run, _report(files=_files(studio)), PROBABILITIES)
    return run


def _chart_titles(at) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def _image_captions(at) -> list[list[str]]:
    return [list(block.captions) for block in at.get("image")]


def test_without_an_evaluated_run_shows_the_info(open_page):
    make_run(state="running")  # no eval/test.json yet

    at = open_page("pages/evaluate.py")

    assert any(text.startswith("No evaluated run yet") for text in texts(at.info))
    assert not at.metric


def test_metrics_top_k_and_calibration_from_the_stored_predictions(open_page, studio):
    run = _evaluated_run(studio)
    report = run.evaluation()

    at = open_page("pages/evaluate.py")

    assert by_label(at.selectbox, "Run").value == run.id
    assert metric_value(at, "Test accuracy") == f"{report['accuracy']:.1%}" == "77.8%"
    assert metric_value(at, "Test loss") == f"{report['loss']:.3f}"
    assert metric_value(at, "Images") == "9"
    assert metric_value(at, "Top-2 accuracy") == "100.0%"  # every true class is first or second
    # this run has no temperature yet: the headline ECE says it is the uncalibrated one (the one the app uses)
    assert metric_value(at, "Expected calibration error (uncalibrated)") == f"{report['calibration']['ece']:.3f}"
    by_label(at.number_input, "k for top-k accuracy").set_value(1).run()
    assert metric_value(at, "Top-1 accuracy") == "77.8%"
    assert _chart_titles(at)[:2] == ["Confusion matrix<br><sup>click a cell to see its images</sup>",
                                     f"Reliability diagram · ECE {report['calibration']['ece']:.3f}"]
    per_class = at.dataframe[1].value
    assert per_class["class"].tolist() == CLASSES and per_class["support"].tolist() == [3, 3, 3]
    assert per_class.set_index("class").loc["fox", "precision"] == 1.0


def test_choosing_a_confusion_cell_shows_exactly_its_images(open_page, studio):
    _evaluated_run(studio)
    files = _files(studio)
    at = open_page("pages/evaluate.py")
    picker = by_label(at.selectbox, "Images in a confusion cell")
    assert picker.value is None
    assert picker.options[:2] == ["true dog → predicted cat (1 image, wrong)",
                                  "true fox → predicted dog (1 image, wrong)"]

    picker.set_value("true dog → predicted cat (1 image, wrong)").run()
    assert not at.exception
    assert files[3] in _image_captions(at)[0] and _image_captions(at)[0] == [files[3]]

    by_label(at.selectbox, "Images in a confusion cell").set_value(
        "true cat → predicted cat (3 images, right)").run()
    assert _image_captions(at)[0] == files[:3]


def test_top_losses_and_most_confused_pairs(open_page, studio):
    _evaluated_run(studio)

    at = open_page("pages/evaluate.py")

    # the fox taken for a dog kept p(fox) = 0.3, the dog taken for a cat p(dog) = 0.4: −log 0.3 is the larger loss
    assert _image_captions(at)[0] == ["true fox · predicted dog · 60%", "true dog · predicted cat · 50%"]
    pairs: pd.DataFrame = at.dataframe[0].value
    assert pairs[["true", "predicted", "images"]].values.tolist() == [["dog", "cat", 1], ["fox", "dog", 1]]


def test_validation_report_is_labelled_as_such(open_page):
    make_run(state="finished", evaluation=_report("validation"))

    at = open_page("pages/evaluate.py")

    assert metric_value(at, "Validation (no test split) accuracy") == "77.8%"


def test_normalise_toggle_redraws_the_confusion_matrix(open_page, studio):
    _evaluated_run(studio, history=HISTORY)
    at = open_page("pages/evaluate.py")
    assert _chart_titles(at)[0] == "Confusion matrix<br><sup>click a cell to see its images</sup>"
    assert "Learning curves" in _chart_titles(at)

    by_label(at.toggle, "Row-normalised (share of each true class)").set_value(True).run()

    assert not at.exception
    assert _chart_titles(at)[0] == "Confusion matrix (row-normalised)<br><sup>click a cell to see its images</sup>"
    cells = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["text"]
    assert cells[3:6] == ["33%", "67%", "0%"]  # true dog: one of three taken for a cat


def test_an_older_run_offers_a_re_evaluation_task(open_page, monkeypatch):
    """Report without predictions (evaluated by an older version): metrics shown, Re-evaluate queues a task."""
    from tlcore.jobs import tasks

    old = {key: value for key, value in _report().items() if key not in ("top_k_accuracy", "calibration")}
    run = make_run(state="finished", evaluation=old, model=b"not really a model")

    at = open_page("pages/evaluate.py")
    assert metric_value(at, "Test accuracy") == "77.8%"
    assert any("per-image predictions were kept" in text for text in texts(at.info))
    assert not [m for m in at.metric if m.label.startswith("Top-")]

    by_label(at.button, "Re-evaluate").click().run()

    assert not at.exception
    queued = tasks.list_tasks()
    assert len(queued) == 1 and json.loads((queued[0].path / "task.json").read_text())["params"] == {"run": run.id}
    assert any(f"Task `{queued[0].id}` waits in the queue" in text for text in texts(at.info))


def test_compare_two_runs_and_mark_the_best(open_page, studio):
    first = _evaluated_run(studio, TrainConfig(dataset="sample-digits", weights="random", learning_rate=1e-3),
                           history=HISTORY)
    second = _evaluated_run(studio, TrainConfig(dataset="sample-digits", weights="random", learning_rate=1e-4),
                            history=HISTORY)
    at = open_page("pages/evaluate.py", query_params={"run": first.id})

    by_label(at.multiselect, "Runs to compare").set_value([first.id, second.id]).run()
    table = at.dataframe[-1].value
    assert table["run"].tolist() == [first.id, second.id]
    assert table.columns.tolist() == ["run", "best", "learning_rate", "split", "accuracy", "loss", "top-2 accuracy",
                                      "ECE"]
    assert _chart_titles(at)[-1] == "Learning curves of the compared runs"

    by_label(at.button, "Mark as best for sample-digits").click().run()
    assert any(text.startswith("★ best run for sample-digits") for text in texts(at.success))
    assert by_label(at.selectbox, "Run").format_func(first.id).endswith("★ best")
    assert at.dataframe[-1].value["best"].tolist() == ["★ best", ""]
