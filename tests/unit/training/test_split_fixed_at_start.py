"""A run's split is fixed at its start: resuming or fine-tuning after the folder changed keeps it exactly.

Real training in this process (MobileNetV2 at 32 px, random weights, one epoch), through the CLI and the worker.
"""

import os

from tlcore import cli
from tlcore.evaluation import metrics
from tlcore.runs.fixed_split import REMOVED_NOTE
from tlcore.runs.folders import Run, create_run
from tlcore.training.fault_injection import FAULT_ENV
from tlcore.worker import run_job


def _add_files(folder, digits, class_names) -> list[str]:
    """One digit the dataset does not hold yet, linked into each named class folder."""
    added = []
    for index, class_name in enumerate(class_names):
        source = sorted((digits / class_name).glob("*.png"))[-1 - index]
        relative = f"{class_name}/added_{source.name}"
        os.link(source, folder / relative)
        added.append(relative)
    return sorted(added)


def _without(items, removed):
    return [item for item in items if item[0] not in removed]


def _record_status(monkeypatch) -> list[dict]:
    """Every status change a run writes, in order."""
    changes = []
    write = Run.update_status

    def recording(self, **fields):
        changes.append(fields)
        return write(self, **fields)

    monkeypatch.setattr(Run, "update_status", recording)
    return changes


def test_a_run_resumed_after_files_were_added_and_removed_keeps_exactly_its_split(
        tiny_dataset, make_config, digits, studio_dirs, monkeypatch, capsys):
    dataset = tiny_dataset("changing", classes=("0", "1", "2"), per_class=40)
    monkeypatch.setenv(FAULT_ENV, "oom")  # the first attempt fails at its first batch, after writing split.json
    run = create_run(make_config(dataset, batch_size=16))
    assert run_job(run, wait=False) == "failed"
    original = run.split()
    monkeypatch.delenv(FAULT_ENV)
    folder = studio_dirs.data_root / dataset
    added = _add_files(folder, digits, ["0", "2"])
    removed = sorted([original.train[3][0], original.test[0][0]])
    for relative in removed:
        (folder / relative).unlink()
    monkeypatch.setattr(metrics, "EVALUATION_BATCH", 4)  # 17 test images: progress after each of 5 batches
    statuses = _record_status(monkeypatch)

    assert cli.main(["resume", run.id]) == 0

    out = capsys.readouterr().out
    assert f"resuming run {run.id} at epoch 1\n" in out
    assert (f"The dataset folder changed since this run's split was made: 2 files added ({added[0]}, {added[1]}) "
            f"and 2 files removed ({removed[0]}, {removed[1]}). The run keeps that split") in out
    kept = run.split()
    assert kept.train == _without(original.train, removed) and len(kept.train) == len(original.train) - 1
    assert kept.val == original.val
    assert kept.test == _without(original.test, removed) and len(kept.test) == len(original.test) - 1
    assert [(item.path, item.reason) for item in kept.excluded] == [(path, REMOVED_NOTE) for path in removed]
    status = run.status()
    assert status["state"] == "finished", status.get("error")
    assert (status["dataset_changes"]["added"], status["dataset_changes"]["removed"]) == (2, 2)
    assert status["dataset_changes"]["added_examples"] == added
    assert run.evaluation()["files"] == [path for path, _ in kept.test]
    # The evaluating phase moved image by batch: 0, 4, 8, 12, 16, 17 of 17.
    evaluated = [change["evaluated_images"] for change in statuses if "evaluated_images" in change]
    assert evaluated == [0, 4, 8, 12, 16, 17]
    assert {change["images_to_evaluate"] for change in statuses if "evaluated_images" in change} == {17}


def test_a_fine_tune_after_files_were_added_and_removed_keeps_its_parents_split(trained_run, digits, studio_dirs):
    parent_split = trained_run.split()
    folder = studio_dirs.data_root / trained_run.config().dataset
    added = _add_files(folder, digits, ["1", "1", "2"])
    removed = sorted([parent_split.train[0][0], parent_split.val[1][0], parent_split.test[2][0]])
    for relative in removed:
        (folder / relative).unlink()
    child = create_run(trained_run.config().fine_tune(parent_run=trained_run.id, fine_tune_at=100, epochs=1))

    assert run_job(child, wait=False) == "finished", child.status().get("error")

    split = child.split()
    assert split.train == _without(parent_split.train, removed)
    assert split.val == _without(parent_split.val, removed)
    assert split.test == _without(parent_split.test, removed)
    assert not {path for path, _ in split.train + split.val + split.test} & set(added)
    changes = child.status()["dataset_changes"]
    assert (changes["added"], changes["removed"]) == (3, 3)
    assert changes["message"].startswith(f"The dataset folder changed since this run's split was made: 3 files "
                                         f"added ({added[0]}, {added[1]}, {added[2]}) and 3 files removed")
    assert trained_run.split() == parent_split  # the parent's own split.json is left as it was
    assert child.evaluation()["images"] == len(parent_split.test) - 1
