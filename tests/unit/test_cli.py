"""`python -m tlcore …` as a user runs it: a real subprocess with this test's environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ("train", "summary", "backbones", "sample", "evaluate", "predict")


def tlcore(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "tlcore", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_help_mentions_every_subcommand():
    done = tlcore("--help")

    assert done.returncode == 0, done.stderr
    for command in SUBCOMMANDS:
        assert command in done.stdout
    assert "usage: python -m tlcore" in done.stdout


def test_missing_subcommand_is_a_usage_error():
    done = tlcore()

    assert done.returncode == 2
    assert "required: command" in done.stderr


def test_summary_prints_the_tensorflow_tutorial_counts():
    done = tlcore("summary", "--backbone", "MobileNetV2", "--image-size", "160", "--classes", "2",
                  "--fine-tune-at", "100", "--weights", "random", "--json")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == 2259265
    assert result["trainable"] == 1862721
    assert result["non_trainable"] == 396544
    assert (result["backbone"], result["image_size"], result["classes"], result["fine_tune_at"]) == \
        ("MobileNetV2", 160, 2, 100)


def test_summary_refuses_a_single_class():
    done = tlcore("summary", "--backbone", "VGG16", "--classes", "1")

    assert done.returncode == 2
    assert done.stderr.strip() == "error: --classes must be at least 2."


def test_summary_refuses_an_unknown_backbone():
    done = tlcore("summary", "--backbone", "AlexNet", "--classes", "3")

    assert done.returncode == 2
    assert "invalid choice: 'AlexNet'" in done.stderr


def test_backbones_lists_the_registry_with_weights_status(studio_dirs):
    cached = studio_dirs.keras_home / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"fake weights: only their presence is checked")

    done = tlcore("backbones", "--json")

    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert len(rows) >= 40
    assert rows["VGG16"]["weights"] == "cached"
    assert rows["MobileNetV2"]["weights"] == "not cached"
    assert rows["MobileNetV2"]["top1"] == 0.713


def test_train_a_tiny_config_prints_finished(studio_dirs, tiny_dataset, make_config, tmp_path):
    config = make_config(tiny_dataset("tiny", classes=("0", "1"), per_class=30))
    (tmp_path / "config.json").write_text(config.to_json())

    done = tlcore("train", "--config", str(tmp_path / "config.json"))

    assert done.returncode == 0, done.stderr[-3000:]
    assert "finished: test accuracy" in done.stdout
    assert "epoch 1: loss" in done.stdout
    (run_folder,) = list(studio_dirs.runs.iterdir())
    assert f"run {run_folder.name} in {run_folder}" in done.stdout
    status = json.loads((run_folder / "status.json").read_text())
    assert status["state"] == "finished"
    assert f"finished: test accuracy {status['test_accuracy']:.4f}" in done.stdout


def test_train_refuses_a_dataset_outside_the_data_root(studio_dirs, make_config, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "a").mkdir(parents=True)
    (tmp_path / "config.json").write_text(make_config(str(outside)).to_json())

    done = tlcore("train", "--config", str(tmp_path / "config.json"), timeout=120)

    assert done.returncode == 2
    assert f"error: '{outside}' is outside the data root (the folder this server reads datasets from)" in done.stderr
    assert list(studio_dirs.runs.iterdir()) == []  # refused before a run folder is made


def test_train_refuses_a_single_class_dataset(studio_dirs, tiny_dataset, make_config, tmp_path):
    (tmp_path / "config.json").write_text(make_config(tiny_dataset("solo", classes=("4",), per_class=5)).to_json())

    done = tlcore("train", "--config", str(tmp_path / "config.json"), timeout=120)

    assert done.returncode == 2
    assert "error: 'solo' has 1 class with images (4)" in done.stderr
    assert list(studio_dirs.runs.iterdir()) == []


def test_train_refuses_an_unknown_config_field(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "tiny", "epoch": 3}))

    done = tlcore("train", "--config", str(tmp_path / "config.json"))

    assert done.returncode == 2
    assert done.stderr.strip() == "error: The config's content has unknown fields: epoch."


def test_predict_reports_a_non_image_and_still_predicts_the_image(trained_run, studio_dirs, tmp_path):
    image = studio_dirs.data_root / "tiny3" / trained_run.split().test[0][0]
    text = tmp_path / "notanimage.txt"
    text.write_text("not a picture")

    done = tlcore("predict", trained_run.id, str(image), str(text), "--top-k", "2")

    assert done.returncode == 1  # not every file could be predicted
    header, *lines = done.stdout.strip().splitlines()
    assert header.startswith("calibrated probabilities (temperature ")
    assert len(lines) == 2
    assert lines[0].startswith(f"{image} ") and lines[0].count("%") == 2
    assert lines[1] == (f"{text} {text} is not a usable image: not an image (Pillow cannot identify the format)")


def test_evaluate_json_prints_the_stored_metrics(trained_run):
    stored = trained_run.evaluation()

    done = tlcore("evaluate", trained_run.id, "--json")

    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["run"] == trained_run.id and report["split"] == "test"
    assert report["accuracy"] == pytest.approx(trained_run.status()["test_accuracy"], abs=1e-9)
    assert report["images"] == 18 and report["class_names"] == ["0", "1", "2"]
    assert sum(map(sum, report["confusion_matrix"])) == 18
    assert report["top_k_accuracy"] == stored["top_k_accuracy"] and list(report["top_k_accuracy"]) == ["2"]
    assert report["ece"] == stored["calibration"]["ece"] and report["calibration_bins"] == 10
    assert [row["support"] for row in report["per_class"]] == [6, 6, 6]
    assert "y_true" not in report and "files" not in report  # metrics only, not the per-image lists


def test_evaluate_prints_what_is_stored_without_evaluating_again(trained_run):
    report = trained_run.evaluation()
    trained_run.write_evaluation("test", {**report, "accuracy": 0.123, "loss": 4.5})
    trained_run.model_path.unlink()  # evaluating again would fail: the stored metrics must be what is printed

    done = tlcore("evaluate", trained_run.id)

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("test: accuracy 0.1230  loss 4.5000  top-2 ")
    assert f"ECE {report['calibration']['ece']:.4f} (18 images)" in done.stdout


def test_evaluate_a_run_without_a_model_is_a_one_line_error(studio_dirs):
    from tlcore.config.training import TrainConfig
    from tlcore.runs.folders import create_run

    run = create_run(TrainConfig(dataset="pets"))

    done = tlcore("evaluate", run.id, "--json")

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: Run {run.id} has no trained model to evaluate yet (state: queued).\n"


def test_evaluate_unknown_run(studio_dirs):
    done = tlcore("evaluate", "2020-01-01_000000_vgg16")

    assert done.returncode == 2
    assert done.stderr.strip() == "error: No run '2020-01-01_000000_vgg16' on this server."


def test_export_writes_the_format_and_prints_its_parity(trained_run, capsys):
    # In-process (no second TensorFlow start-up) and the cheapest format: every format is checked in test_export.py.
    from tlcore.cli import main

    assert main(["export", trained_run.id, "--format", "keras"]) == 0
    line, = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("keras ") and "top-1 agreement 100.0%  parity passed" in line
    assert line.endswith("→ keras/model.keras")
    assert (trained_run.path / "exports" / "keras" / "model.keras").stat().st_size > 100_000
    assert json.loads((trained_run.path / "exports" / "report.json").read_text())["formats"]["keras"][
        "parity_passed"] is True


@pytest.mark.parametrize("args, message", [
    (("export", "no-such-run", "--format", "keras"), "error: No run 'no-such-run'"),
    (("predict", "no-such-run", "missing.png"), "error: No such image file: missing.png"),
])
def test_bad_export_or_predict_input_exits_2_with_one_line(args, message):
    done = tlcore(*args)

    assert done.returncode == 2
    assert done.stderr.strip().startswith(message) and len(done.stderr.strip().splitlines()) == 1


def test_predict_json_gives_top_k_per_image(trained_run, studio_dirs, capsys):
    from tlcore.cli import main

    image = studio_dirs.data_root / "tiny3" / trained_run.split().test[0][0]

    assert main(["predict", trained_run.id, str(image), "--top-k", "2", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["image"] == str(image) and entry["error"] is None
    assert len(entry["top"]) == 2 and entry["top"][0]["probability"] >= entry["top"][1]["probability"]
