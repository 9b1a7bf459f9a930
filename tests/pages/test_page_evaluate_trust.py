"""Evaluate shows what Predict and Demo show (issue 24): the mistakes' probabilities calibrated and labelled, the
headline ECE the calibrated one, the threshold's support, a QR code offer for the demo, and a warning for a run
whose answers ignore the image."""

import json
import re
import shutil

import pytest
from page_helpers import metric_value, texts

from tlcore.inference.calibrated import read_calibration


@pytest.fixture
def evaluated_run(studio, calibrated_run_master):
    from tlcore.runs.folders import get_run

    shutil.copytree(calibrated_run_master.parent.parent / "data" / "digits3", studio.data_root / "digits3",
                    copy_function=shutil.copy)
    shutil.copytree(calibrated_run_master, studio.runs_dir / calibrated_run_master.name)
    return get_run(calibrated_run_master.name)


def test_mistakes_and_ece_are_the_calibrated_ones_predict_shows(open_page, evaluated_run):
    from tlcore.evaluation import load_predictions

    record = read_calibration(evaluated_run)
    stored = load_predictions(evaluated_run)
    assert len(stored) == len(record["held_out"]["confidence"])

    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    assert not at.exception
    assert metric_value(at, "Expected calibration error") == f"{record['held_out']['ece_after']:.3f}"
    assert any(text.startswith(f"Probabilities calibrated (temperature {record['temperature']:.2f})")
               for text in texts(at.caption))
    captions = [caption for image in at.image for caption in image.captions if " · predicted " in caption]
    wrong = [i for i, ok in enumerate(record["held_out"]["correct"]) if not ok]
    if captions:  # each mistake's percentage is the calibrated one Predict and Demo show for that image
        shown = {int(re.search(r"(\d+)%$", caption).group(1)) for caption in captions}
        calibrated = {round(100 * record["held_out"]["confidence"][i]) for i in wrong}
        assert shown <= calibrated, (shown, calibrated)
    else:
        assert not wrong


def test_the_threshold_states_its_support(open_page, evaluated_run):
    reject = read_calibration(evaluated_run)["reject"]

    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    assert any(f"95% target, supported by {reject['supported_by']} validation answers" in text
               for text in texts(at.markdown))
    if not reject["met"]:
        assert any("validation answers are too few to support 95%" in text for text in texts(at.warning))
    assert any("QR code of the demo" in expander.label for expander in at.expander)


def test_a_run_that_always_gives_the_same_answer_is_flagged(open_page, evaluated_run):
    path = evaluated_run.path / "eval" / "test.json"
    report = json.loads(path.read_text())
    total = [sum(row) for row in report["confusion_matrix"]]
    report["confusion_matrix"] = [[count] + [0] * (len(total) - 1) for count in total]
    report["accuracy"] = total[0] / sum(total)
    path.write_text(json.dumps(report))

    at = open_page("pages/evaluate.py", query_params={"run": evaluated_run.id})

    assert any("got the same answer" in text for text in texts(at.error))
