"""tlcore.datasets.scan: scanning a class-folder dataset, finding broken files, and the stratified seeded split."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlcore.config.split import SplitConfig
from tlcore.datasets.health import find_bad_files
from tlcore.datasets.scan import BadFile, DatasetError, scan_folder
from tlcore.datasets.split import Split, make_split


def _png(path: Path, shade: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), shade).save(path)


def _dataset(root: Path, counts: dict[str, int]) -> Path:
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            _png(root / name / f"{name}_{index:03d}.png", index % 256)
    return root


# --- scan_folder ---------------------------------------------------------------------------------------------------
def test_scan_counts_images_per_class_in_sorted_class_order(studio_dirs):
    _dataset(studio_dirs.data_root / "pets", {"dogs": 3, "cats": 5})

    scan = scan_folder("pets")

    assert scan.root == studio_dirs.data_root.resolve() / "pets"
    assert scan.class_names == ["cats", "dogs"]
    assert scan.class_counts == {"cats": 5, "dogs": 3}
    assert scan.files[0] == ("cats/cats_000.png", 0) and scan.files[-1] == ("dogs/dogs_002.png", 1)


def test_scan_skips_hidden_and_non_image_files_and_lists_them(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 2, "dogs": 2})
    (root / "cats" / ".DS_Store").write_bytes(b"\0\0")
    _png(root / "cats" / "._cat.png")  # macOS resource-fork twin
    (root / "dogs" / "notes.txt").write_text("good dogs")
    _png(root / "dogs" / ".thumbnails" / "dog_small.png")  # hidden sub-folder: not walked at all
    _png(root / ".trash" / "x.png")  # hidden and underscore folders are not classes
    _png(root / "__MACOSX" / "y.png")

    scan = scan_folder("pets")

    assert scan.class_names == ["cats", "dogs"]
    assert scan.class_counts == {"cats": 2, "dogs": 2}
    assert sorted(scan.skipped) == ["cats/.DS_Store", "cats/._cat.png", "dogs/notes.txt"]


def test_scan_counts_images_in_nested_folders_under_their_class(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 1, "dogs": 1})
    _png(root / "cats" / "indoor" / "sofa.png")
    _png(root / "cats" / "indoor" / "night" / "dark.png")

    scan = scan_folder("pets")

    assert scan.class_counts == {"cats": 3, "dogs": 1}
    assert ("cats/indoor/night/dark.png", 0) in scan.files and ("cats/indoor/sofa.png", 0) in scan.files


def test_fingerprint_changes_when_a_file_is_added(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 2, "dogs": 2})
    before = scan_folder("pets").fingerprint
    assert scan_folder("pets").fingerprint == before

    _png(root / "dogs" / "new.png")

    assert scan_folder("pets").fingerprint != before


def test_scan_refuses_a_folder_without_class_sub_folders(studio_dirs):
    loose = studio_dirs.data_root / "loose"
    _png(loose / "a.png")
    _png(loose / "b.png")

    with pytest.raises(DatasetError) as refused:
        scan_folder("loose")

    assert str(refused.value) == ("'loose' has no class sub-folders. Put the images of each class in their own "
                                  "sub-folder, e.g. loose/cats/*.jpg and loose/dogs/*.jpg (or train/cats, val/cats, test/cats, …).")


def test_scan_refuses_a_single_class(studio_dirs):
    _dataset(studio_dirs.data_root / "only", {"cats": 4})

    with pytest.raises(DatasetError) as refused:
        scan_folder("only")

    assert str(refused.value) == ("'only' has 1 class with images (cats); a classifier needs at least two class "
                                  "sub-folders with images in them.")


def test_an_empty_class_folder_is_left_out_and_named_not_refused(studio_dirs):
    # Issue 13: refusing the whole dataset for one empty folder hid every other finding of the health report.
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 2, "dogs": 2})
    (root / "birds").mkdir()
    (root / "birds" / "readme.txt").write_text("no images yet")

    scan = scan_folder("pets")

    assert scan.class_names == ["cats", "dogs"] and scan.empty_classes == ["birds"]
    assert scan.class_counts == {"cats": 2, "dogs": 2}
    assert {label for _, label in scan.files} == {0, 1}
    assert scan.skipped == ["birds/readme.txt"]


def test_scan_refuses_a_missing_folder(studio_dirs):
    with pytest.raises(DatasetError, match=r"^'nowhere' is not a folder under the data root\.$"):
        scan_folder("nowhere")


# --- find_bad_files ------------------------------------------------------------------------------------------------
def test_find_bad_files_lists_each_broken_file_with_its_reason(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 3, "dogs": 3})
    (root / "cats" / "empty.png").write_bytes(b"")
    (root / "dogs" / "text.jpg").write_text("not a photo")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    (root / "dogs" / "cut.jpg").write_bytes(buffer.getvalue()[:600])

    bad = find_bad_files(scan_folder("pets"))

    by_path = {item.path: item.reason for item in bad}
    assert sorted(by_path) == ["cats/empty.png", "dogs/cut.jpg", "dogs/text.jpg"]
    assert by_path["cats/empty.png"] == "empty file (0 bytes)"
    assert by_path["dogs/text.jpg"] == "not an image (Pillow cannot identify the format)"
    assert by_path["dogs/cut.jpg"].startswith("truncated or corrupt image")


def test_find_bad_files_is_empty_for_a_clean_dataset(studio_dirs):
    _dataset(studio_dirs.data_root / "pets", {"cats": 3, "dogs": 3})

    assert find_bad_files(scan_folder("pets")) == []


# --- make_split ----------------------------------------------------------------------------------------------------
@pytest.fixture
def unbalanced(studio_dirs):
    _dataset(studio_dirs.data_root / "pets", {"cats": 40, "dogs": 20})
    return scan_folder("pets")


def test_split_is_stratified_per_class(unbalanced):
    split = make_split(unbalanced, SplitConfig(val_fraction=0.15, test_fraction=0.15, seed=42))

    # 60 images: 9 for test and 9 for validation, each 2:1 like the whole dataset.
    assert split.counts() == {"train": {"cats": 28, "dogs": 14}, "val": {"cats": 6, "dogs": 3},
                              "test": {"cats": 6, "dogs": 3}}


def test_split_partitions_every_file_exactly_once(unbalanced):
    split = make_split(unbalanced, SplitConfig())

    together = split.train + split.val + split.test
    assert sorted(together) == sorted(unbalanced.files)
    assert len(set(together)) == len(together)


def test_same_seed_gives_the_same_split_and_another_seed_another(unbalanced):
    first = make_split(unbalanced, SplitConfig(seed=7))
    again = make_split(unbalanced, SplitConfig(seed=7))
    other = make_split(unbalanced, SplitConfig(seed=8))

    assert (first.train, first.val, first.test) == (again.train, again.val, again.test)
    assert first.test != other.test
    assert other.counts() == first.counts()  # still stratified


def test_zero_validation_fraction_gives_no_validation_split(unbalanced):
    split = make_split(unbalanced, SplitConfig(val_fraction=0.0, test_fraction=0.25))

    assert split.val == []
    assert split.counts()["test"] == {"cats": 10, "dogs": 5}


def test_split_leaves_out_bad_files_and_keeps_them_listed(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 20, "dogs": 20})
    (root / "cats" / "broken.png").write_bytes(b"")
    scan = scan_folder("pets")
    bad = find_bad_files(scan)

    split = make_split(scan, SplitConfig(), excluded=bad)

    assert bad == [BadFile("cats/broken.png", "empty file (0 bytes)")]
    everything = {path for path, _ in split.train + split.val + split.test}
    assert "cats/broken.png" not in everything and len(everything) == 40
    assert split.excluded == bad


def test_too_small_class_is_a_dataset_error(studio_dirs):
    _dataset(studio_dirs.data_root / "pets", {"cats": 20, "dogs": 1})

    with pytest.raises(DatasetError, match=r"^Cannot split this dataset stratified: the smallest class has 1 usable"):
        make_split(scan_folder("pets"), SplitConfig())


def test_class_made_too_small_by_bad_files_is_a_dataset_error(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 20, "dogs": 1})
    (root / "dogs" / "broken.png").write_text("oops")
    scan = scan_folder("pets")
    assert scan.class_counts == {"cats": 20, "dogs": 2}

    with pytest.raises(DatasetError, match="the smallest class has 1 usable images"):
        make_split(scan, SplitConfig(), excluded=find_bad_files(scan))


def test_fractions_leaving_too_few_training_images_are_refused(unbalanced):
    with pytest.raises(DatasetError, match="keep them under 0.9"):
        make_split(unbalanced, SplitConfig(val_fraction=0.5, test_fraction=0.45))


@pytest.mark.parametrize("val, test, message", [
    (-0.1, 0.2, r"val_fraction must be a finite number in \[0, 1\)"),
    (0.2, 1.0, r"test_fraction must be a finite number in \[0, 1\)"),
])
def test_fractions_out_of_range_are_refused_when_the_split_is_configured(val, test, message):
    """Checked once, where the config is made (tlcore.config.checks), so no split is ever attempted with them."""
    with pytest.raises(ValueError, match=message):
        SplitConfig(val_fraction=val, test_fraction=test)


def test_split_round_trips_through_a_dict(unbalanced):
    split = make_split(unbalanced, SplitConfig(), excluded=[BadFile("cats/x.png", "empty file (0 bytes)")])

    again = Split.from_dict(split.to_dict())

    assert again == split
    assert isinstance(again.train[0], tuple)


def test_class_whose_every_file_is_broken_is_named(studio_dirs):
    root = _dataset(studio_dirs.data_root / "pets", {"cats": 10})
    (root / "dogs").mkdir()
    (root / "dogs" / "a.png").write_bytes(b"")
    (root / "dogs" / "b.jpg").write_text("not a photo")
    scan = scan_folder("pets")

    with pytest.raises(DatasetError) as refused:
        make_split(scan, SplitConfig(), excluded=find_bad_files(scan))

    assert str(refused.value) == "No readable image left in: dogs. Replace the broken files or remove the folder."


def test_a_model_is_measured_on_the_test_split_or_on_validation_when_there_is_none():
    files = dict(train=[("a.png", 0)], val=[("b.png", 1)])
    assert Split(["x", "y"], **files, test=[("c.png", 0)]).held_out == ("test", [("c.png", 0)])
    assert Split(["x", "y"], **files, test=[]).held_out == ("validation", [("b.png", 1)])
