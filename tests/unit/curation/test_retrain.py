"""Retrain and compare: the new run gets the old split with the cleaner's moves applied, and before/after is measured
on the unchanged test files only, with relabelled test files reported apart."""

import pandas as pd
import pytest

from tlcore.config.training import TrainConfig
from tlcore.curation import before_after, exclude, queue_retrain, relabel, retrained_from
from tlcore.curation.retrain import cleaned_split
from tlcore.datasets.split import Split
from tlcore.evaluation.metrics import predictions_path
from tlcore.jobs import scheduler
from tlcore.runs.folders import create_run, get_run


@pytest.fixture
def cleaned(tiny_dataset, monkeypatch):
    """A trained-looking run on 'mine' (hand-written split), then one test file relabelled, one train file excluded."""
    name = tiny_dataset("mine", classes=("0", "1"), per_class=4)
    started = []
    monkeypatch.setattr(scheduler, "start_worker", started.append)  # the scheduler's step starts the new run
    run = create_run(TrainConfig(dataset=name, image_size=32, weights="random"))
    run.update_status(state="finished")
    from tlcore.datasets import scan_folder

    items = scan_folder(name).files  # 0/… ×4, 1/… ×4
    split = Split(["0", "1"], train=[items[0], items[1], items[4], items[5]], val=[items[2], items[6]],
                  test=[items[3], items[7]])
    run.write_split(split)
    relabel(name, items[3][0], "1", actor="alice")  # a test file: its right answer changes
    exclude(name, items[0][0], actor="alice")  # a train file leaves
    return run, items, started


def test_queue_retrain_applies_the_moves_to_the_same_split(cleaned):
    run, items, started = cleaned
    after = queue_retrain(run.id, actor="bob")
    assert started == [after]
    split = after.split()
    moved_test = ("1/" + items[3][0].split("/")[1], 1)
    assert split.test == [moved_test, items[7]]
    assert split.train == [items[1], items[4], items[5]] and split.val == [items[2], items[6]]
    record = retrained_from(after)
    assert record["before"] == run.id and record["actor"] == "bob" and len(record["moves"]) == 2
    assert after.owner == "bob"
    assert after.config().parent_run is None and after.config().image_size == 32


def test_nothing_cleaned_is_refused(tiny_dataset):
    name = tiny_dataset("clean", classes=("0", "1"), per_class=2)
    run = create_run(TrainConfig(dataset=name, weights="random"))
    from tlcore.datasets import scan_folder

    items = scan_folder(name).files
    run.write_split(Split(["0", "1"], train=items[:2], val=[], test=items[2:]))
    with pytest.raises(ValueError, match="nothing to retrain"):
        queue_retrain(run.id)


def _predictions(run, rows):
    path = predictions_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["file", "true", "predicted", "confidence"]).to_csv(path, index=False)


def test_before_after_on_unchanged_test_files_only(cleaned):
    run, items, _ = cleaned
    after = queue_retrain(run.id)
    relabelled_now = "1/" + items[3][0].split("/")[1]
    _predictions(run, [(items[3][0], "0", "1", 0.9), (items[7][0], "1", "0", 0.6)])  # both wrong before
    _predictions(after, [(relabelled_now, "1", "1", 0.9), (items[7][0], "1", "1", 0.8)])
    result = before_after(after.id)
    assert result["unchanged_test_images"] == 1  # the relabelled one does not count
    assert result["before_accuracy"] == 0.0 and result["after_accuracy"] == 1.0
    assert result["per_class"] == [{"class": "1", "images": 1, "before": 0.0, "after": 1.0, "change": 1.0}]
    assert result["relabelled_test_files"] == [{"file": items[3][0], "now": relabelled_now, "old_label": "0",
                                                "new_label": "1", "before_predicted": "1", "after_predicted": "1"}]
    with pytest.raises(ValueError, match="not retrained"):
        before_after(run.id)
    assert get_run(after.id).split() is not None


def test_cleaned_split_drops_quarantined_and_moves_relabelled():
    split = Split(["a", "b"], train=[("a/1.png", 0), ("a/2.png", 0)], val=[], test=[("b/3.png", 1)])
    moves = {"a/1.png": "_excluded/a/1.png", "b/3.png": "a/3.png"}
    cleaned = cleaned_split(split, moves)
    assert cleaned.train == [("a/2.png", 0)] and cleaned.test == [("a/3.png", 0)]


def test_real_retrain_compares_on_the_unchanged_test_files(trained_run, monkeypatch):
    """The shared tiny run, cleaned (a test file relabelled, a test file excluded, a train file relabelled), retrained
    for real through the job path, and the comparison checked against a count made here from the two CSVs."""
    import csv

    from tlcore.runs.folders import FINISHED
    from tlcore.worker import run_job

    monkeypatch.setattr(scheduler, "start_worker", lambda run: None)  # this process runs the job itself
    dataset = trained_run.config().dataset
    split = trained_run.split()
    test_by_class = {label: [path for path, given in split.test if given == label] for label in (0, 1, 2)}
    relabelled, excluded = test_by_class[0][0], test_by_class[1][0]
    relabel(dataset, relabelled, "2", actor="alice")
    exclude(dataset, excluded, actor="alice")
    relabel(dataset, next(path for path, label in split.train if label == 1), "0", actor="alice")

    after = queue_retrain(trained_run.id, actor="alice")
    assert run_job(after, wait=False) == FINISHED, after.status().get("error")
    result = before_after(after.id)

    def rows(run):
        with predictions_path(run).open() as handle:
            return {row["file"]: row for row in csv.DictReader(handle)}

    old, new = rows(trained_run), rows(after)
    same = [path for path in old if path not in (relabelled, excluded)]
    assert sorted(same) == sorted(path for path in new if path != "2/" + relabelled.split("/")[1])
    right_before = [old[path]["predicted"] == old[path]["true"] for path in same]
    right_after = [new[path]["predicted"] == old[path]["true"] for path in same]
    assert result["unchanged_test_images"] == len(same) == len(split.test) - 2
    assert result["before_accuracy"] == pytest.approx(sum(right_before) / len(same))
    assert result["after_accuracy"] == pytest.approx(sum(right_after) / len(same))
    assert result["after_accuracy"] >= 0.7  # chance is 1/3: the retrained model discriminates
    assert len({new[path]["predicted"] for path in same}) > 1
    for row in result["per_class"]:
        mine = [i for i, path in enumerate(same) if old[path]["true"] == row["class"]]
        assert row["images"] == len(mine)
        assert row["before"] == pytest.approx(sum(right_before[i] for i in mine) / len(mine))
        assert row["after"] == pytest.approx(sum(right_after[i] for i in mine) / len(mine))
    [moved] = result["relabelled_test_files"]
    assert moved["file"] == relabelled and moved["old_label"] == "0" and moved["new_label"] == "2"
    assert moved["after_predicted"] == new[moved["now"]]["predicted"]
    [left_out] = result["excluded_test_files"]
    assert left_out["file"] == excluded and left_out["now"].startswith("_excluded/") and left_out["label"] == "1"
