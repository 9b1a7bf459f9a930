"""The cleaner: moves are exact, logged with who/when/from/to, undoable; nothing is deleted; refusals are plain."""

import os

import pytest

from tlcore.curation import QUARANTINE, CleaningRefused, exclude, history, keep, kept, moved_files, relabel, undo
from tlcore.datasets import scan_folder


def _files(root):
    """Every file under the dataset folder (the log aside) with its bytes' identity (inode), relative paths."""
    return {str(p.relative_to(root)): p.stat().st_ino for p in root.rglob("*") if p.is_file()
            and p.name != ".tlstudio-cleaning.json"}


@pytest.fixture
def dataset(tiny_dataset, studio_dirs):
    name = tiny_dataset("mine", classes=("0", "1", "2"), per_class=5)
    return name, studio_dirs.data_root / name


def test_relabel_exclude_undo_are_exact_and_logged(dataset):
    name, root = dataset
    before = _files(root)
    first, second = sorted(before)[0], sorted(before)[1]  # both in class 0
    counts = scan_folder(name).class_counts

    moved = relabel(name, first, "2", actor="alice")
    assert not (root / first).exists() and (root / moved.target).stat().st_ino == before[first]
    assert moved.target == f"2/{os.path.basename(first)}"
    assert scan_folder(name).class_counts == {**counts, "0": counts["0"] - 1, "2": counts["2"] + 1}

    excluded = exclude(name, second, actor="bob")
    assert excluded.target == f"{QUARANTINE}/{second}" and (root / excluded.target).is_file()
    assert second not in {path for path, _ in scan_folder(name).files}  # the quarantine is not a class
    assert QUARANTINE not in scan_folder(name).class_names
    assert moved_files(name) == {first: moved.target, second: excluded.target}

    log = history(name)
    assert [(a.kind, a.actor, a.source, a.target) for a in log] == [
        ("relabel", "alice", first, moved.target), ("exclude", "bob", second, excluded.target)]
    assert all(a.at > 0 for a in log)

    undo(name, excluded.id, actor="carol")
    undo(name, moved.id)
    assert _files(root) == before  # the same files (inodes) at the same places: nothing copied, nothing deleted
    assert scan_folder(name).class_counts == counts
    assert moved_files(name) == {}
    assert [a.kind for a in history(name)] == ["relabel", "exclude", "undo", "undo"]
    assert history(name)[2].actor == "carol" and history(name)[2].undoes == excluded.id
    with pytest.raises(CleaningRefused, match="already undone"):
        undo(name, moved.id)


def test_keep_is_remembered_and_forgotten_by_undo(dataset):
    name, root = dataset
    path = sorted(_files(root))[0]
    action = keep(name, path, actor="alice")
    assert kept(name) == {path} and (root / path).is_file()
    undo(name, action.id)
    assert kept(name) == set()


@pytest.mark.parametrize("path", ["../outside.png", "/etc/passwd", "0/../../x.png", "_excluded/0/a.png", "nofile"])
def test_paths_outside_the_dataset_or_its_classes_are_refused(dataset, path):
    name, root = dataset
    before = _files(root)
    with pytest.raises(CleaningRefused):
        relabel(name, path, "1")
    with pytest.raises(CleaningRefused):
        exclude(name, path)
    assert _files(root) == before


def test_unknown_class_existing_target_and_builtin_dataset_are_refused(dataset, digits):
    name, root = dataset
    path = sorted(_files(root))[0]
    with pytest.raises(CleaningRefused, match="not a class"):
        relabel(name, path, "9")
    (root / "1" / os.path.basename(path)).write_bytes(b"someone else's file")
    with pytest.raises(CleaningRefused, match="already exists"):
        relabel(name, path, "1")
    assert (root / path).is_file() and history(name) == []
    with pytest.raises(CleaningRefused, match="read-only"):
        exclude(digits.name, "0/digit_0000.png")
    assert (digits / "0" / "digit_0000.png").is_file()


def test_undo_refuses_when_the_file_was_moved_again(dataset):
    name, root = dataset
    path = sorted(_files(root))[0]
    first = relabel(name, path, "1")
    relabel(name, first.target, "2")
    with pytest.raises(CleaningRefused, match="moved again"):
        undo(name, first.id)
    assert moved_files(name) == {path: f"2/{os.path.basename(path)}"}


def test_a_copy_of_the_builtin_digits_is_an_ordinary_writable_dataset(studio_dirs):
    """`cp -r sample-digits my-digits` carries the built-in marker file along; the copy is still the user's own."""
    import shutil

    from tlcore.curation import is_read_only
    from tlcore.datasets import SAMPLE_NAME, sample_dataset_path

    builtin = sample_dataset_path()
    copy = studio_dirs.data_root / "my-digits"
    shutil.copytree(builtin, copy)
    assert (copy / ".complete").exists()  # the marker travelled with the copy
    assert is_read_only(SAMPLE_NAME) and not is_read_only("my-digits")
    with pytest.raises(CleaningRefused, match="read-only"):
        relabel(SAMPLE_NAME, "0/digit_0000.png", "1")
    action = relabel("my-digits", "0/digit_0000.png", "1")
    assert (copy / "1" / "digit_0000.png").is_file() and not (copy / "0" / "digit_0000.png").exists()
    assert (builtin / "0" / "digit_0000.png").is_file()
    undo("my-digits", action.id)
    assert (copy / "0" / "digit_0000.png").is_file()


def test_state_after_actions_comes_from_the_log(dataset):
    """What the page shows after a click (open issues, where files are, what undo offers) is read from the log."""
    from tlcore.curation import current_paths, describe, open_issues, planned_moves, undoable

    name, root = dataset
    a, b, c = sorted(str(p.relative_to(root)) for p in root.glob("0/*.png"))[:3]
    assert planned_moves([a], "relabel", "2") == [f"{a} 0 → 2"]
    assert planned_moves([b], "exclude") == [f"{b} → {QUARANTINE}/{b}"]
    moved = relabel(name, a, "2")
    excluded = exclude(name, b)
    kept_action = keep(name, c)
    assert current_paths(name, [a, b, c]) == [moved.target, excluded.target, c]
    assert open_issues(name, [a, b, c], [True, True, True]) == []
    assert [describe(action) for action in undoable(name)] == [
        f"kept {c} as it is", f"excluded {b} (now in {QUARANTINE}/)", f"moved {a} 0 → 2"]
    undo(name, moved.id)
    assert open_issues(name, [a, b, c], [True, True, True]) == [0]
    assert [action.id for action in undoable(name)] == [kept_action.id, excluded.id]
    again = relabel(name, a, "1")
    onward = relabel(name, again.target, "2")
    assert again.id not in {action.id for action in undoable(name)}  # moved again since: undo the later move first
    assert onward.id in {action.id for action in undoable(name)}
