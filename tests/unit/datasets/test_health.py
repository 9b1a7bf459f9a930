"""tlcore.datasets.health and the bad inputs of issue 3: each one gets a clear reason and is left out of training."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlcore.config.split import SplitConfig
from tlcore.datasets.health import analyse_files, find_bad_files, health_report, imbalance
from tlcore.datasets.scan import DatasetError, count_images, scan_folder
from tlcore.datasets.split import make_split


def _png(path: Path, shade: int = 0, size=(16, 16), mode="RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, shade if mode != "RGB" else (shade, shade, shade)).save(path)
    return path


def _bomb_png() -> bytes:
    """A valid PNG header claiming 30,000 × 30,000 px (900 Mpx): Pillow refuses it before decoding anything."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.fixture
def messy(studio_dirs) -> Path:
    """Two classes with every kind of bad and odd file the issue lists."""
    root = studio_dirs.data_root / "messy"
    for index in range(6):
        _png(root / "chats" / f"chat_{index}.png", 10 + index)
        _png(root / "dogs" / f"dog_{index}.png", 100 + index)
    (root / "chats" / "zero.jpg").write_bytes(b"")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    (root / "chats" / "truncated.jpg").write_bytes(buffer.getvalue()[:600])
    (root / "chats" / "notes.jpg").write_text("not a picture")
    _png(root / "chats" / "tiny.png", size=(1, 1))
    (root / "dogs" / "bomb.png").write_bytes(_bomb_png())
    Image.fromarray(np.full((16, 16), 0.5, dtype=np.float32), mode="F").save(root / "dogs" / "float.tif")
    _png(root / "dogs" / "alpha.png", mode="RGBA", size=(16, 16))
    Image.fromarray(np.full((16, 16), 40000, dtype=np.uint16)).save(root / "dogs" / "deep.png")
    Image.new("CMYK", (16, 16), (0, 0, 0, 0)).save(root / "dogs" / "cmyk.jpg")
    _png(root / "dogs" / "unterordner" / "tiefer" / "hund_ß.png", 200)  # nested folder, non-ASCII name
    (root / "dogs" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "dogs" / "._dog_0.png").write_bytes(b"\0\5\26\7")
    return root


EXPECTED_REASONS = {"chats/zero.jpg": "zero bytes", "chats/truncated.jpg": "truncated or corrupt",
                    "chats/notes.jpg": "not an image", "chats/tiny.png": "too small",
                    "dogs/bomb.png": "decompression bomb", "dogs/float.tif": "unsupported mode"}


def test_every_bad_file_is_reported_with_its_reason_and_a_readable_message(messy):
    report = health_report(scan_folder("messy"))

    assert {item["path"]: item["reason"] for item in report["unreadable"]} == EXPECTED_REASONS
    messages = {item["path"]: item["message"] for item in report["unreadable"]}
    assert messages["chats/zero.jpg"] == "empty file (0 bytes)"
    assert messages["chats/tiny.png"] == "too small (1×1 px; at least 8 px per side)"
    assert "decompression bomb" in messages["dogs/bomb.png"]
    assert "unsupported colour mode F" in messages["dogs/float.tif"]
    assert report["unreadable_by_reason"]["zero bytes"] == 1


def test_training_leaves_out_exactly_the_bad_files_and_keeps_converted_ones(messy):
    scan = scan_folder("messy")
    split = make_split(scan, SplitConfig(0.2, 0.2, 0), excluded=find_bad_files(scan))
    used = {path for name in ("train", "val", "test") for path, _ in getattr(split, name)}

    assert used.isdisjoint(EXPECTED_REASONS)
    assert {"dogs/alpha.png", "dogs/deep.png", "dogs/cmyk.jpg", "dogs/unterordner/tiefer/hund_ß.png"} <= used
    assert {item.path for item in split.excluded} == set(EXPECTED_REASONS)


def test_hidden_files_are_skipped_and_converted_modes_are_counted(messy):
    report = health_report(scan_folder("messy"))

    assert sorted(report["skipped"]) == ["dogs/.DS_Store", "dogs/._dog_0.png"]
    assert report["modes"]["RGBA"] == 1 and report["modes"]["CMYK"] == 1 and report["modes"]["I;16"] == 1
    assert len(report["sizes"]["width"]) == report["usable_images"] == 16


def test_the_analysis_is_cached_by_fingerprint_and_redone_when_the_listing_changes(messy, monkeypatch):
    analyse_files(scan_folder("messy"))
    import tlcore.datasets.health

    monkeypatch.setattr(tlcore.datasets.health, "inspect_image", lambda _: pytest.fail("decoded again"))
    assert len(find_bad_files(scan_folder("messy"))) == 6  # training reuses the cached analysis
    _png(messy / "dogs" / "new.png", 7)
    with pytest.raises(pytest.fail.Exception, match="decoded again"):
        analyse_files(scan_folder("messy"))


def test_imbalance_warns_and_suggests_balanced_class_weights():
    result = imbalance({"cats": 100, "dogs": 10})

    assert result["ratio"] == 10.0
    assert "'cats' has 100 images, 10.0× the 10 of 'dogs'" in result["warning"]
    assert result["class_weights"] == {"cats": 0.55, "dogs": 5.5}  # n / (classes × count)
    assert imbalance({"cats": 10, "dogs": 12})["warning"] is None


def _presplit(root: Path, layout: dict[str, dict[str, int]]) -> None:
    for split, classes in layout.items():
        for name, count in classes.items():
            for index in range(count):
                _png(root / split / name / f"{name}_{index}.png", (index * 37 + len(split) * 11 + ord(name[0]) * 5) % 256)


def test_a_presplit_dataset_is_used_as_is(studio_dirs):
    _presplit(studio_dirs.data_root / "signs", {"train": {"0": 5, "1": 4}, "valid": {"0": 2, "1": 2},
                                                "test": {"0": 1, "1": 3}})
    scan = scan_folder("signs")
    split = make_split(scan, SplitConfig(0.3, 0.3, 1))

    assert scan.presplit and scan.class_names == ["0", "1"]
    assert split.counts() == {"train": {"0": 5, "1": 4}, "val": {"0": 2, "1": 2}, "test": {"0": 1, "1": 3}}
    assert all(path.startswith("valid/") for path, _ in split.val)
    assert count_images("signs") == {"train": {"0": 5, "1": 4}, "val": {"0": 2, "1": 2}, "test": {"0": 1, "1": 3}}


def test_a_presplit_dataset_without_validation_folder_carves_it_from_train_seeded(studio_dirs):
    _presplit(studio_dirs.data_root / "rps", {"train": {"rock": 10, "paper": 10}, "test": {"rock": 2, "paper": 2}})
    scan = scan_folder("rps")

    first, again = make_split(scan, SplitConfig(0.2, 0.5, 3)), make_split(scan, SplitConfig(0.2, 0.5, 3))

    assert first.counts()["val"] == {"paper": 2, "rock": 2} and first.counts()["test"] == {"paper": 2, "rock": 2}
    assert first.val == again.val and all(path.startswith("train/") for path, _ in first.val)


def test_a_presplit_folder_mixed_with_class_folders_is_refused(studio_dirs):
    _presplit(studio_dirs.data_root / "mixed", {"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1},
                                                "extra": {"a": 1}})
    with pytest.raises(DatasetError, match=r"mixes split folders .* with other folders \(extra\)"):
        scan_folder("mixed")


def test_duplicates_are_grouped_and_those_crossing_splits_flagged_as_leakage(studio_dirs):
    root = studio_dirs.data_root / "leaky"
    _presplit(root, {"train": {"a": 3, "b": 3}, "test": {"a": 1, "b": 1}})
    (root / "test" / "a" / "copy.png").write_bytes((root / "train" / "a" / "a_0.png").read_bytes())
    (root / "train" / "b" / "twin.png").write_bytes((root / "train" / "b" / "b_1.png").read_bytes())

    groups = health_report(scan_folder("leaky"), SplitConfig(0.0, 0.0, 0))["duplicates"]

    leaks = [group for group in groups if group["leak"]]
    assert [group["paths"] for group in leaks] == [["test/a/copy.png", "train/a/a_0.png"]]
    assert leaks[0]["splits"] == ["test", "train"]
    assert ["train/b/b_1.png", "train/b/twin.png"] in [group["paths"] for group in groups if not group["leak"]]


# --- issue 13: every problem at once, files streamed, the pixel budget, a full disk --------------------------------

def test_one_report_lists_every_problem_at_once(studio_dirs, tmp_path):
    # Before issue 13 the empty class folder alone refused the dataset, and the report showed nothing else.
    root = studio_dirs.data_root / "everything"
    _presplit(root, {"train": {"cats": 4, "dogs": 4}, "test": {"cats": 2, "dogs": 2}})
    (root / "train" / "birds").mkdir()  # empty class folder
    (root / "train" / "dogs" / "broken.png").write_bytes(b"not a png")
    Image.fromarray(np.full((16, 16), 0.5, dtype=np.float32), mode="F").save(root / "train" / "dogs" / "float.tif")
    (root / "test" / "cats" / "copy.png").write_bytes((root / "train" / "cats" / "cats_0.png").read_bytes())
    _png(tmp_path / "outside" / "x.png")
    (root / "train" / "cats" / "outside.png").symlink_to(tmp_path / "outside" / "x.png")
    (root / "test" / "dogs" / "loop.png").symlink_to(root / "test" / "dogs" / "loop.png")

    report = health_report(scan_folder("everything"))

    assert report["empty_classes"] == ["birds"] and report["classes"] == ["cats", "dogs"]
    assert {item["path"]: item["reason"] for item in report["unreadable"]} == {
        "train/dogs/broken.png": "not an image", "train/dogs/float.tif": "unsupported mode"}
    assert {item["path"]: item["reason"] for item in report["not_read"]} == {
        "train/cats/outside.png": "link leaves the data root", "test/dogs/loop.png": "link loop"}
    assert [group["paths"] for group in report["duplicates"] if group["leak"]] == [
        ["test/cats/copy.png", "train/cats/cats_0.png"]]
    assert report["split_error"] is None and report["split_counts"]["test"] == {"cats": 3, "dogs": 2}


def test_files_are_hashed_in_chunks_never_read_whole(studio_dirs):
    import hashlib
    import tracemalloc

    root = studio_dirs.data_root / "big"
    for name in ("a", "b"):
        _png(root / name / "1.png", ord(name))
    with open(root / "a" / "huge.png", "wb") as handle:  # 64 MiB of zeros, sparse: no disk used
        handle.truncate(64 << 20)

    tracemalloc.start()
    try:
        analysis = analyse_files(scan_folder("big"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert analysis["files"]["a/huge.png"][0] == hashlib.sha256(b"\0" * (64 << 20)).hexdigest()
    assert peak < 8 << 20, f"{peak / 2**20:.0f} MiB held while checking a 64 MiB file"


def test_images_over_the_pixel_budget_are_listed_and_the_budget_is_part_of_the_cache(studio_dirs, monkeypatch):
    root = studio_dirs.data_root / "large"
    for name in ("a", "b"):
        _png(root / name / "small.png", ord(name))
    _png(root / "a" / "poster.png", 5, size=(300, 200))

    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "50000")
    first = health_report(scan_folder("large"))
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "60000")
    second = health_report(scan_folder("large"))

    assert [(item["path"], item["reason"]) for item in first["unreadable"]] == [("a/poster.png", "too many pixels")]
    assert "300×200 = 60,000 pixels; at most 50,000" in first["unreadable"][0]["message"]
    assert second["unreadable"] == []  # a new budget is a new analysis, not the cached one


def test_a_full_disk_costs_only_the_cache_and_the_report_says_so(studio_dirs, monkeypatch):
    import errno

    import tlcore.storage.atomic

    root = studio_dirs.data_root / "pets"
    for name in ("cats", "dogs"):
        _png(root / name / "1.png", ord(name[0]))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tlcore.storage.atomic.tempfile, "mkstemp", full)
    report = health_report(scan_folder("pets"))

    assert report["usable_images"] == 2
    assert report["notes"] == ["Disk full: the health check's result could not be saved (nothing was half-written). "
                               "Free some space on the server and try again. The check will run again next time."]
