"""Evaluate page of a calibrated run: temperature, ECE and reliability diagrams before and after, the threshold
chosen from the user's target with its accuracy/coverage curve (stored only when asked), the demo link and the
model card; a run evaluated before calibration existed is offered a re-evaluation."""

import json
import shutil

import pytest
from page_helpers import by_label, make_run, metric_value, texts

from tlcore.inference.calibrated import read_calibration


@pytest.fixture
def evaluated_run(studio, calibrated_run_master):
    from tlcore.runs.folders import get_run

    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio.data_root / "digits3",
                    copy_function=shutil.copy)
    shutil.copytree(calibrated_run_master, studio.runs_dir / calibrated_run_master.name)
    return get_run(calibrated_run_master.name)


def _chart_titles(at) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_calibration_before_and_after_and_the_threshold(open_page, evaluated_run):
    record = read_calibration(evaluated_run)
    held_out, reject = record["held_out"], record["reject"]

    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    assert metric_value(at, "Temperature") == f"{record['temperature']:.2f}"
    assert metric_value(at, "ECE before") == f"{held_out['ece_before']:.3f}"
    assert metric_value(at, "ECE after") == f"{held_out['ece_after']:.3f}"
    titles = _chart_titles(at)
    assert f"Before temperature scaling · ECE {held_out['ece_before']:.3f}" in titles
    assert f"After (T = {record['temperature']:.2f}) · ECE {held_out['ece_after']:.3f}" in titles
    assert "Accuracy on the answers given vs. share answered (validation)" in titles
    assert by_label(at.number_input, "Target accuracy on the answers given (%)").value == 95.0
    assert metric_value(at, "Not sure below") == f"{reject['threshold']:.1%}"
    assert metric_value(at, "Test: answered · right") == (
        f"{reject['held_out']['coverage']:.0%} · {reject['held_out']['accuracy']:.1%}")
    assert any(text.startswith("This is the run's threshold") for text in texts(at.caption))
    assert not [button for button in at.button if button.label.startswith("Use this threshold")]


def test_a_new_target_is_previewed_then_stored_when_asked(open_page, evaluated_run):
    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    by_label(at.number_input, "Target accuracy on the answers given (%)").set_value(100.0).run()

    preview = metric_value(at, "Not sure below")
    assert read_calibration(evaluated_run)["reject"]["target_accuracy"] == 0.95  # nothing stored yet
    by_label(at.button, "Use this threshold (100 % target)").click().run()

    stored = read_calibration(evaluated_run)["reject"]
    assert stored["target_accuracy"] == 1.0 and f"{stored['threshold']:.1%}" == preview
    assert not at.exception


def test_the_demo_link_and_the_model_card(open_page, evaluated_run):
    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    links = [link for link in at.get("page_link") if link.proto.page.endswith("demo")]
    assert [(link.value, link.proto.query_string) for link in links] == [
        ("Open the demo of this model", f"run={evaluated_run.id}")]
    assert [button.label for button in at.get("download_button")] == ["Model card (.md)", "Model card (.json)"]


def test_a_run_evaluated_before_calibration_is_offered_a_re_evaluation(open_page, studio):
    import numpy as np

    from tlcore.evaluation.metrics import classification_report, store_evaluation

    probabilities = np.array([[0.9, 0.1], [0.2, 0.8]])
    run = make_run(state="finished", model=b"a model file", class_names=["cat", "dog"])
    store_evaluation(run, classification_report(np.array([0, 1]), probabilities, ["cat", "dog"],
                                                 files=["cat/a.png", "dog/b.png"]), probabilities)

    at = open_page("pages/evaluate.py")

    assert any("before its confidence was calibrated" in text for text in texts(at.info))
    assert by_label(at.button, "Re-evaluate")
    assert any("has no temperature yet" in text for text in texts(at.caption))
