"""`python -m tlcore predict` answers as Predict and Demo do: calibrated probabilities, and "not sure" below the run's
threshold (issue 24: the CLI printed the model's own probabilities and never said "not sure")."""

import json

import pytest

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def test_predict_prints_calibrated_probabilities_and_not_sure(calibrated_run, studio_dirs, capsys):
    from tlcore.cli import main
    from tlcore.evaluation.confidence import set_target_accuracy
    from tlcore.inference.calibrated import read_calibration

    record = set_target_accuracy(calibrated_run, 1.0)  # the strictest threshold: the least sure answers are refused
    held_out, items = record["held_out"], calibrated_run.split().test
    least = min(range(len(items)), key=lambda i: held_out["confidence"][i])
    most = max(range(len(items)), key=lambda i: held_out["confidence"][i])
    images = [str(studio_dirs.data_root / "digits3" / items[i][0]) for i in (least, most)]

    assert main(["predict", calibrated_run.id, *images, "--top-k", "3", "--json"]) == 0
    unsure, sure = json.loads(capsys.readouterr().out)

    threshold = read_calibration(calibrated_run)["reject"]["threshold"]
    assert held_out["confidence"][least] < threshold <= held_out["confidence"][most]
    assert unsure["not_sure"] is True and unsure["answer"] == "not sure"
    assert sure["not_sure"] is False and sure["answer"] == sure["top"][0]["class"]
    for entry, index in ((unsure, least), (sure, most)):  # calibrated: as evaluation measured them
        assert entry["top"][0]["probability"] == pytest.approx(held_out["confidence"][index], abs=1e-5)
        assert entry["temperature"] == pytest.approx(record["temperature"]) and entry["threshold"] == threshold

    assert main(["predict", calibrated_run.id, *images]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"calibrated probabilities (temperature {record['temperature']:.2f}); not sure below")
    assert "100% target, supported by" in lines[0]
    body = [line for line in lines if line.startswith(images[0]) or line.startswith(images[1])]
    assert body[0].startswith(f"{images[0]} not sure: ") and not body[1].startswith(f"{images[1]} not sure")
