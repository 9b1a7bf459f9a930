"""tlcore.datasets.sample: the built-in digits are written once as an ordinary class-folder dataset."""

import shutil

import numpy as np
from PIL import Image

from tlcore.datasets.sample import SAMPLE_NAME, sample_dataset_path
from tlcore.datasets.scan import scan_folder

# Images per digit in scikit-learn's load_digits (the UCI optical digits test set).
DIGIT_COUNTS = {"0": 178, "1": 182, "2": 177, "3": 183, "4": 181, "5": 182, "6": 181, "7": 179, "8": 174, "9": 180}


def test_sample_is_1797_pngs_in_ten_classes_under_the_data_root(studio_dirs, digits):
    # `digits` is this session's first sample_dataset_path() output, linked under this test's data root.
    path = sample_dataset_path()

    assert path == studio_dirs.data_root.resolve() / SAMPLE_NAME
    scan = scan_folder(SAMPLE_NAME)
    assert scan.class_names == [str(d) for d in range(10)]
    assert scan.class_counts == DIGIT_COUNTS
    assert sum(scan.class_counts.values()) == 1797
    assert scan.skipped == []
    assert len(list(path.rglob("*.png"))) == 1797


def test_sample_images_are_dark_ink_on_white_8x8(digits):
    image = Image.open(digits / "0" / "digit_0000.png")
    pixels = np.asarray(image)
    assert image.mode == "L" and image.size == (8, 8)
    assert pixels[0, 0] == 255  # paper in the corner
    assert pixels.min() < 50  # ink somewhere


def test_second_call_reuses_the_written_folder(digits):
    probe = digits / "3" / "digit_0003.png"
    probe.unlink()  # a rewrite would bring it back

    assert sample_dataset_path() == digits.resolve()
    assert not probe.exists()
    assert len(list(digits.rglob("*.png"))) == 1796


def test_half_written_sample_is_completed(studio_dirs, digits_master):
    path = studio_dirs.data_root / SAMPLE_NAME
    shutil.copytree(digits_master, path)  # real copies: the rewrite must not write through hard links
    (path / ".complete").unlink()
    (path / "7" / "digit_0007.png").unlink()

    sample_dataset_path()

    assert (path / "7" / "digit_0007.png").is_file()
    assert len(list(path.rglob("*.png"))) == 1797
