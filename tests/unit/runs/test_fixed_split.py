"""tlcore.runs.fixed_split: a run's split is the one stored when it started; folder changes are reported, not used."""

import os

import pytest

from tlcore.config.split import SplitConfig
from tlcore.config.training import TrainConfig
from tlcore.datasets.scan import DatasetError, scan_folder
from tlcore.datasets.split import make_split
from tlcore.runs.fixed_split import REMOVED_NOTE, DatasetChanges, dataset_changes, fixed_split, stored_split
from tlcore.runs.folders import create_run


@pytest.fixture
def split_run(tiny_dataset, studio_dirs):
    """A run on 3 × 40 digits whose split.json was written when it started (as train_run does)."""
    dataset = tiny_dataset("fixed", classes=("0", "1", "2"), per_class=40)
    run = create_run(TrainConfig(dataset=dataset, weights="random"))
    split = make_split(scan_folder(dataset), SplitConfig(0.2, 0.2, 7))
    run.write_split(split)
    return run, split, studio_dirs.data_root / dataset


def _add(folder, digits, class_names):
    """Link one more digit (never in the dataset yet) into each named class folder; returns their relative paths."""
    added = []
    for class_name in class_names:
        source = sorted((digits / class_name).glob("*.png"))[-1]  # the dataset holds each class's first 40
        relative = f"{class_name}/new_{len(added)}_{source.name}"
        os.link(source, folder / relative)
        added.append(relative)
    return sorted(added)


def test_a_folder_that_did_not_change_gives_the_stored_split_as_it_is(split_run):
    run, split, _ = split_run

    fixed = fixed_split(run)

    assert not fixed.changes and fixed.changes.message() == ""
    assert fixed.split == split


def test_added_files_are_not_used_removed_ones_are_left_out_and_nothing_moves(split_run, digits):
    run, split, folder = split_run
    added = _add(folder, digits, ["0", "2", "1", "1"])
    removed = sorted([split.train[0][0], split.test[-1][0]])
    for relative in removed:
        (folder / relative).unlink()

    fixed = fixed_split(run)

    assert fixed.changes == DatasetChanges(tuple(added), tuple(removed))
    assert fixed.split.train == [item for item in split.train if item[0] not in removed]
    assert fixed.split.val == split.val
    assert fixed.split.test == [item for item in split.test if item[0] not in removed]
    assert [(item.path, item.reason) for item in fixed.split.excluded] == [(path, REMOVED_NOTE) for path in removed]
    used = {path for path, _ in fixed.split.train + fixed.split.val + fixed.split.test}
    assert not used & set(added)
    message = fixed.changes.message()
    assert message.startswith("The dataset folder changed since this run's split was made: 4 files added (")
    assert f"{added[0]}, {added[1]}, {added[2]}, … 1 more" in message
    assert f"2 files removed ({removed[0]}, {removed[1]})" in message
    assert "The run keeps that split: added files are not used, removed files are left out" in message
    assert fixed.changes.summary() == {"added": 4, "removed": 2, "added_examples": added,
                                       "removed_examples": removed, "message": message}


def test_a_file_removed_earlier_stays_reported_after_the_split_was_written_again(split_run):
    run, split, folder = split_run
    gone = split.val[0][0]
    (folder / gone).unlink()
    run.write_split(fixed_split(run).split)  # as train_run does when the resumed job starts

    again = fixed_split(run)

    assert again.changes == DatasetChanges((), (gone,))
    assert [item.path for item in again.split.excluded] == [gone]  # noted once
    assert again.split.val == split.val[1:]


def test_a_fine_tuning_run_takes_its_parents_split_until_it_has_its_own(split_run, digits):
    parent, split, folder = split_run
    child = create_run(parent.config().fine_tune(parent_run=parent.id, fine_tune_at=10))
    assert child.split() is None and stored_split(child) == split
    added = _add(folder, digits, ["2"])

    assert dataset_changes(child) == DatasetChanges(tuple(added), ())
    assert fixed_split(child).split == split
    assert "Fine-tuning keeps that split" in dataset_changes(child).message("Fine-tuning")


def test_a_first_phase_starting_now_has_no_fixed_split(tiny_dataset, studio_dirs):
    run = create_run(TrainConfig(dataset=tiny_dataset(), weights="random"))

    assert fixed_split(run) is None and not dataset_changes(run)


def test_an_emptied_class_folder_is_still_compared_file_by_file(split_run):
    run, split, folder = split_run
    for path in (folder / "2").iterdir():
        path.unlink()  # the scan now leaves the empty class out (a warning in the health report)
    assert "2" not in scan_folder(folder).class_names

    fixed = fixed_split(run)

    assert set(fixed.changes.removed) == {path for path, label in split.train + split.val + split.test if label == 2}
    assert fixed.split.class_names == split.class_names and {label for _, label in fixed.split.train} == {0, 1}


def test_no_training_image_left_is_an_error_naming_the_folder(split_run):
    run, split, folder = split_run
    for path, _ in split.train:
        (folder / path).unlink()

    with pytest.raises(DatasetError, match=r"None of this run's 72 training images is left in 'fixed'"):
        fixed_split(run)
