"""`python -m tlcore label-issues` prints the ranked list and `embed` writes the projection as CSV; missing ImageNet
weights and bad datasets are plain errors (exit 2), never a traceback."""

import csv
import json

from tlcore.cli import main
from tlcore.training import feature_cache


def test_label_issues_and_embed_of_a_run(trained_run, capsys, tmp_path):
    dataset = trained_run.config().dataset
    assert main(["label-issues", dataset, "--run", trained_run.id, "--top", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["issues"]) == 5 and report["images"] == 120
    scores = [issue["score"] for issue in report["issues"] if not issue["flagged"]]
    assert scores == sorted(scores, reverse=True)
    assert set(report["issues"][0]) == {"path", "given", "suggested", "score", "flagged"}

    output = tmp_path / "map.csv"
    assert main(["embed", dataset, "--run", trained_run.id, "--method", "pca", "--output", str(output)]) == 0
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 120 and {"path", "split", "label", "x", "y", "issue_score"} <= set(rows[0])
    assert all(float(row["x"]) == float(row["x"]) for row in rows)  # numbers, not NaN
    split = trained_run.split()
    answered = [row for row in rows if row["correct"] != ""]  # the run's held-out answers: its test files only
    assert {row["path"] for row in answered} == {path for path, _ in split.test}
    assert {row["split"] for row in answered} == {"test"}
    assert sum(row["correct"] == "True" for row in answered) / len(answered) >= 0.8  # the run discriminates
    assert all(0 <= float(row["confidence"]) <= 1 for row in answered)
    keys = [entry.name for entry in feature_cache.features_folder().iterdir()]
    assert any(key.startswith("run-") for key in keys)  # a run's model: its own cache key


def test_missing_weights_and_bad_dataset_are_plain_errors(tiny_dataset, capsys):
    name = tiny_dataset("two", classes=("0", "1"), per_class=5)
    assert main(["label-issues", name, "--weights", "imagenet", "--image-size", "32"]) == 2
    assert "not cached" in capsys.readouterr().err
    assert main(["embed", "no-such-folder", "--weights", "random"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
