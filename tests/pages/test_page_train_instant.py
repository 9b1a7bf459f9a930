"""Train page, instant model panel: the button queues an `instant` task with the form's values; a finished task
shows its accuracy and links to the run on Predict and Demo. No worker is spawned (`start_worker` records)."""

import json

import pytest
from page_helpers import by_label, texts

from tlcore.jobs import scheduler as jobs
from tlcore.jobs.tasks import create_task
from tlcore.storage.atomic import write_json_atomic


@pytest.fixture
def started(monkeypatch):
    runs = []
    monkeypatch.setattr(jobs, "start_worker", runs.append)
    return runs


def test_instant_button_queues_a_task_with_the_forms_dataset_backbone_and_size(open_page, started):
    at = open_page("pages/train.py")
    by_label(at.number_input, "Image size (px)").set_value(64).run()
    assert by_label(at.button, "Make the instant model").disabled  # offline, no ImageNet weights: nothing to embed
    by_label(at.radio, "Starting weights").set_value("random").run()
    by_label(at.button, "Make the instant model").click().run()

    assert len(started) == 1
    task = json.loads((started[0].path / "task.json").read_text())
    assert task["kind"] == "instant"
    assert task["params"]["backbone"] == "MobileNetV2" and task["params"]["image_size"] == 64
    assert task["params"]["dataset"] == "sample-digits" and task["params"]["weights"] == "random"
    assert task["params"]["owner"]


def test_finished_instant_task_shows_accuracy_and_links_to_predict_and_demo(open_page):
    task = create_task("instant", {"dataset": "sample-digits"})
    write_json_atomic(task.path / "result.json", {
        "run": "2026-12-07_220000_mobilenetv2", "held_out": "test", "held_out_accuracy": 0.875,
        "cross_validated": {"prototype": 0.9, "prototype_spread": 0.02, "knn": 0.93, "knn_spread": 0.01,
                            "folds": 5}})
    task.update_status(state="finished")
    at = open_page("pages/train.py")
    at.session_state["instant_task"] = task.id
    at.run()

    values = {metric.label: metric.value for metric in at.metric}
    assert values["Accuracy on the test images"] == "87.5%"
    assert values["Cross-validated, prototypes (5 folds)"] == "90.0% ± 2.0%"
    links = " ".join(texts(at.markdown))
    assert "/demo?run=2026-12-07_220000_mobilenetv2" in links and "/predict?run=2026-12-07_220000_mobilenetv2" in links
