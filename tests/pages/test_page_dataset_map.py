"""Dataset page, "Map & clean": the map task is queued with the chosen settings, a finished map is drawn with the
cleaner under it, relabel and undo move the file and are logged, and the built-in sample is read-only."""

import json
import os

import pytest
from page_helpers import by_label

from tlcore.jobs.tasks import create_task, get_task
from tlcore.storage.atomic import write_json_atomic

CLASSES = ("0", "1", "2")


@pytest.fixture
def mine(studio):
    """A dataset of the user's own: 3 classes × 4 digits (hard links of the sample)."""
    for name in CLASSES:
        (studio.data_root / "mine" / name).mkdir(parents=True)
        for image in sorted((studio.data_root / "sample-digits" / name).glob("*.png"))[:4]:
            os.link(image, studio.data_root / "mine" / name / image.name)
    return studio.data_root / "mine"


def _finished_map(root, flagged_path: str, suggested: str):
    """A finished embedding_map task with a hand-made result (the page only reads it)."""
    paths = sorted(str(p.relative_to(root)) for p in root.glob("*/*.png"))
    n = len(paths)
    points = {"path": paths, "split": ["train"] * n, "label": [p.split("/")[0] for p in paths],
              "x": [float(i) for i in range(n)], "y": [float(i % 3) for i in range(n)],
              "issue_score": [0.9 if p == flagged_path else 0.1 for p in paths],
              "suggested": [suggested if p == flagged_path else p.split("/")[0] for p in paths],
              "flagged": [p == flagged_path for p in paths], "outlier_score": [0.5] * n,
              "correct": [None] * n, "confidence": [None] * n}
    task = create_task("embedding_map", {"dataset": root.name})
    write_json_atomic(task.path / "result.json", {
        "root": str(root), "class_names": list(CLASSES), "images": n, "feature_dim": 64, "method": "pca",
        "points": points, "flagged_issues": 1,
        "issues": [{"path": flagged_path, "given": flagged_path.split("/")[0], "suggested": suggested, "score": 0.9,
                    "flagged": True}],
        "duplicates": [{"a": paths[0], "b": paths[-1], "similarity": 0.99, "split_a": "train", "split_b": "test",
                        "leakage": True}],
        "duplicate_pairs": 1, "leaking_pairs": 1, "timings": {"features_s": 1.0, "projection_s": 0.1}})
    task.update_status(state="finished")
    return task


def _open_map(open_page, dataset: str, root, task):
    at = open_page("pages/dataset.py", query_params={"dataset": dataset})
    at.session_state[f"map_task::{root.resolve()}"] = task.id
    at.run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def test_compute_map_queues_the_task_with_the_chosen_settings(open_page, mine):
    at = open_page("pages/dataset.py", query_params={"dataset": "mine"})
    assert not at.warning
    # offline: ImageNet weights absent, so random ones are preselected and the page says why
    assert by_label(at.radio, "Weights").value == "Random (untrained features)"
    assert any("not cached" in item.value and "weaker" in item.value for item in at.caption)
    by_label(at.radio, "Weights").set_value("ImageNet (cached weights only)").run()
    by_label(at.button, "Compute map").click().run()  # asked for anyway: said, nothing queued
    assert any("not cached" in warning.value for warning in at.warning)
    assert f"map_task::{mine.resolve()}" not in at.session_state
    by_label(at.radio, "Weights").set_value("Random (untrained features)")
    by_label(at.radio, "Projection").set_value("PCA")
    by_label(at.number_input, "Image size (px)").set_value(32)
    by_label(at.button, "Compute map").click().run()
    assert not at.exception
    task_id = at.session_state[f"map_task::{mine.resolve()}"]
    params = json.loads((get_task(task_id).path / "task.json").read_text())["params"]
    assert params == {"dataset": "mine", "backbone": "MobileNetV2", "image_size": 32, "weights": "random",
                      "run": None, "method": "pca", "seed": 0}


def test_finished_map_relabel_and_undo(open_page, mine):
    flagged = "0/" + sorted(p.name for p in (mine / "0").glob("*.png"))[0]
    at = _open_map(open_page, "mine", mine, _finished_map(mine, flagged, "2"))

    assert any("1 likely label issues" in item.value for item in at.success)
    assert len(at.get("plotly_chart")) >= 2  # class counts and the map
    assert by_label(at.multiselect, "Images to act on").value == [flagged]
    assert by_label(at.selectbox, "New class").value == "2"  # the suggested label
    issues = next(frame.value for frame in at.dataframe if "Given label" in frame.value.columns)
    assert list(issues["Image"]) == [flagged] and list(issues["Suggested"]) == ["2"]
    pairs = next(frame.value for frame in at.dataframe if "Near-copy" in frame.value.columns)
    assert list(pairs["Leakage across splits"]) == [True]
    by_label(at.button, "Relabel").click().run()
    assert not at.exception, [item.value for item in at.exception]

    moved = mine / "2" / flagged.split("/")[1]
    assert moved.is_file() and not (mine / flagged).exists()
    log = at.dataframe[-1].value
    assert list(log["Action"]) == ["relabel"] and list(log["Who"]) == ["local"]
    assert list(log["From"]) == [flagged] and list(log["To"]) == [f"2/{moved.name}"]

    by_label(at.button, "Undo").click().run()
    assert not at.exception
    assert (mine / flagged).is_file() and not moved.exists()
    assert list(at.dataframe[-1].value["Action"]) == ["relabel", "undo"]


def test_builtin_sample_is_read_only(open_page, studio):
    root = studio.data_root / "sample-digits"
    at = _open_map(open_page, "sample-digits", root, _finished_map(root, "0/digit_0000.png", "1"))
    assert any("read-only" in item.value for item in at.info)
    assert by_label(at.button, "Relabel").disabled and by_label(at.button, "Exclude").disabled
    assert (root / "0" / "digit_0000.png").is_file()
