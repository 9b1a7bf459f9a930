"""tlcore.inference.model_card: exports/model_card.md and .json say what the run was trained on, how, how well it
does, its calibration and threshold, its export parity and its limitations, from the run folder's own files."""

import json

import pytest

from tlcore.inference.model_card import (
    accuracy_interval,
    data_source,
    model_card,
    model_card_markdown,
    write_model_card,
)


def test_the_card_of_a_calibrated_run(calibrated_run):
    card = model_card(calibrated_run)
    split, evaluation = calibrated_run.split(), calibrated_run.evaluation()
    record = json.loads((calibrated_run.path / "eval" / "calibration.json").read_text())

    assert card["data"]["classes"] == ["0", "1", "2"]
    assert card["data"]["split_counts"] == split.counts()
    assert card["data"]["images"] == {"train": len(split.train), "val": len(split.val), "test": len(split.test)}
    assert card["data"]["source"] == "the image folder 'digits3' under the data root (one sub-folder per class)"
    assert card["model"]["backbone"] == "MobileNetV2" and card["model"]["fine_tune_at"] == 0
    assert card["model"]["freeze"] == "every base layer trained"
    assert [(p["phase"], p["epochs"]) for p in card["model"]["phases"]] == [(1, 3)]
    assert card["metrics"]["accuracy"] == evaluation["accuracy"]
    assert [row["class"] for row in card["metrics"]["per_class"]] == ["0", "1", "2"]
    assert card["calibration"]["temperature"] == record["temperature"]
    assert card["calibration"]["ece_after"] == record["held_out"]["ece_after"]
    assert card["threshold"]["threshold"] == record["reject"]["threshold"]
    assert card["exports"] == []
    assert card["trained"]["finished_at"] is not None
    assert any("only these 3 classes" in note for note in card["limitations"])
    assert any("trained from random weights" in note for note in card["limitations"])


def test_the_markdown_has_every_section_and_the_numbers(calibrated_run):
    card = model_card(calibrated_run)

    text = model_card_markdown(card)

    for heading in ("# Model card: ", "## Intended use", "## Data", "## Model", "## Metrics",
                    "## Calibration and 'not sure'", "## Export parity", "## Limitations"):
        assert heading in text
    assert f"accuracy **{card['metrics']['accuracy']:.1%}**" in text
    assert f"Temperature {card['calibration']['temperature']:.3f}" in text
    assert f"'Not sure' below a calibrated confidence of {card['threshold']['threshold']:.3f}" in text
    assert "| 0 | " in text and "Not exported yet." in text


def test_written_files_follow_the_run_export_parity_included(calibrated_run):
    from tlcore.storage.atomic import write_json_atomic

    write_json_atomic(calibrated_run.path / "exports" / "report.json", {"formats": {"keras": {
        "format": "keras", "label": "Keras (.keras)", "parity_passed": True, "top1_agreement": 1.0,
        "max_probability_difference": 2e-7, "test_accuracy": 0.8, "latency_ms": 3.0}}})

    write_model_card(calibrated_run)

    card = json.loads((calibrated_run.path / "exports" / "model_card.json").read_text())
    assert card["exports"] == [{"format": "keras", "label": "Keras (.keras)", "parity_passed": True,
                                "top1_agreement": 1.0, "max_probability_difference": 2e-7, "test_accuracy": 0.8}]
    assert "| Keras (.keras) | passed | 100.0% | 2e-07 |" in (calibrated_run.path / "exports" /
                                                           "model_card.md").read_text()


def test_a_run_never_evaluated_gets_a_card_that_says_so(studio_dirs, make_config):
    from tlcore.runs.folders import create_run

    card = model_card(create_run(make_config("pets")))
    text = model_card_markdown(card)

    assert card["metrics"] is None and card["calibration"] is None
    assert "Not evaluated yet." in text and "Not calibrated" in text


def test_data_sources_and_the_accuracy_interval():
    assert data_source("sample-digits").startswith("scikit-learn's handwritten digits")
    assert data_source("tfds-tf_flowers") == "TensorFlow Datasets 'tf_flowers' (Flowers: 5 kinds, 3,670 photos)"
    low, high = accuracy_interval(0.8, 25)
    assert low == pytest.approx(0.609, abs=1e-3) and high == pytest.approx(0.911, abs=1e-3)  # Wilson, z = 1.96
    assert accuracy_interval(1.0, 10)[1] == 1.0 and accuracy_interval(0.5, 0) == (0.0, 1.0)
