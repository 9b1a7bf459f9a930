"""Dataset sources of issue 3: a safe zip upload, TFDS by name (mocked), stored settings, thumbnails, figures, CLI."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.split import SplitConfig
from tlcore.datasets.scan import scan_folder
from tlcore.datasets.settings import DatasetSettings, load_settings, save_settings, settings_path
from tlcore.datasets.thumbnails import cached_thumbnail, describe, page_of
from tlcore.figures import dataset as dataset_figures
from tlcore.storage.archive import ArchiveError, extract_zip


def _png_bytes(shade: int, size=(16, 16)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


# --- zip upload ----------------------------------------------------------------------------------------------------

def test_a_zip_of_one_wrapper_folder_becomes_a_dataset_under_the_data_root(studio_dirs):
    entries = {f"pets/{name}/{i}.png": _png_bytes(i * 20) for name in ("cats", "dogs") for i in range(3)}
    entries["__MACOSX/pets/._cats"] = b"junk"

    folder = extract_zip(_zip(entries), "My pets (2).zip")

    assert folder == studio_dirs.data_root / "My-pets-2" / "pets"
    assert scan_folder(folder).class_counts == {"cats": 3, "dogs": 3}
    assert not (studio_dirs.data_root / "My-pets-2" / "__MACOSX").exists()


@pytest.mark.parametrize("bad_name,message", [("../evil.png", r"points outside its folder \('\.\.'\)"),
                                              ("a/../../evil.png", r"points outside its folder"),
                                              ("/etc/evil.png", "has an absolute path")])
def test_entries_escaping_the_folder_are_refused_and_nothing_is_written(studio_dirs, bad_name, message):
    archive = _zip({"ok/a/1.png": _png_bytes(1), bad_name: _png_bytes(2)})

    with pytest.raises(ArchiveError, match=message):
        extract_zip(archive, "evil.zip")

    assert list(studio_dirs.data_root.iterdir()) == []
    assert not (studio_dirs.data_root.parent / "evil.png").exists()


def test_a_zip_bomb_is_refused_by_its_size_and_by_its_compression_ratio(studio_dirs):
    bomb = _zip({"a/zeros.png": b"\0" * (8 << 20), "b/1.png": _png_bytes(3)})  # 8 MB of zeros → a few KB

    with pytest.raises(ArchiveError, match=r"unpacks to more than 4 MB \(a zip bomb\?\)"):
        extract_zip(bomb, "bomb.zip", max_total_bytes=4 << 20)
    bomb.seek(0)
    with pytest.raises(ArchiveError, match=r"compresses [\d,]+× \(a zip bomb\?\)"):
        extract_zip(bomb, "bomb.zip")
    assert [p for p in studio_dirs.data_root.iterdir()] == []


def test_too_many_files_and_non_zips_are_refused(studio_dirs):
    with pytest.raises(ArchiveError, match="more than 3 files"):
        extract_zip(_zip({f"a/{i}.png": b"x" for i in range(4)}), "many.zip", max_files=3)
    with pytest.raises(ArchiveError, match="Not a readable .zip file"):
        extract_zip(io.BytesIO(b"PK but not really"), "fake.zip")


def test_an_existing_dataset_is_never_overwritten(studio_dirs):
    (studio_dirs.data_root / "pets").mkdir()
    with pytest.raises(ArchiveError, match="'pets' already exists"):
        extract_zip(_zip({"a/1.png": _png_bytes(1)}), "pets.zip")


# --- TFDS ----------------------------------------------------------------------------------------------------------

def test_tfds_dataset_is_written_as_a_presplit_class_folder_once(studio_dirs, monkeypatch, pretend_online):
    import tensorflow_datasets as tfds

    from tlcore.datasets import tfds as tfds_source

    pretend_online(True)
    progress = []
    with tfds.testing.mock_data(num_examples=8):
        folder = tfds_source.fetch("rock_paper_scissors", lambda fraction, message: progress.append(fraction))

    scan = scan_folder(folder)
    assert folder == studio_dirs.data_root / "tfds-rock_paper_scissors"
    assert scan.presplit and set(scan.split_folders) == {"train", "test"}
    assert set(scan.class_names) <= {"rock", "paper", "scissors"} and len(scan.files) == 16
    assert progress[-1] == 1.0 and progress == sorted(progress)
    assert tfds_source.fetch("rock_paper_scissors") == folder  # cached: no TFDS call outside the mock


def test_tfds_download_reports_the_bytes_on_disk_while_it_runs(studio_dirs, monkeypatch, pretend_online):
    """A download that writes 1.5 MB in six steps over ~1 s: the bar moves with it, never back, to 100 %."""
    import time
    from dataclasses import replace
    from unittest import mock

    import tensorflow_datasets as tfds

    from tlcore.datasets import tfds as tfds_source

    pretend_online(True)
    monkeypatch.setattr(tfds_source, "WATCH_INTERVAL_S", 0.02)
    entry = replace(tfds_source.CATALOG["rock_paper_scissors"], download_mb=1)  # ≈ 3 MB written in all
    monkeypatch.setitem(tfds_source.CATALOG, entry.name, entry)

    def slow_download(self, *, download_dir, **kwargs):
        archive = Path(download_dir) / "rps.zip"
        archive.parent.mkdir(parents=True, exist_ok=True)
        with open(archive, "ab") as out:
            for _ in range(6):
                out.write(b"\0" * 250_000)
                out.flush()
                time.sleep(0.15)

    progress = []
    with tfds.testing.mock_data(num_examples=4), \
            mock.patch("tensorflow_datasets.core.dataset_builder.DatasetBuilder.download_and_prepare", slow_download):
        tfds_source.fetch(entry.name, lambda fraction, message: progress.append((fraction, message)))

    fractions = [fraction for fraction, _ in progress]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    downloading = sorted({fraction for fraction, message in progress
                          if message.startswith("downloading rock_paper_scissors:") and fraction > 0})
    assert len(downloading) >= 4  # at least four different values while the bytes grew
    assert downloading[-1] == pytest.approx(tfds_source.DOWNLOAD_SHARE * 1.5 / 3, abs=0.01)
    assert any(message.endswith("1.5 MB written (download about 1 MB)") for _, message in progress)
    assert (tfds_source.DOWNLOAD_SHARE, "rock_paper_scissors downloaded and prepared") in progress
    writing = [fraction for fraction, message in progress if message.startswith("writing")]
    assert len(writing) == 8 and writing[0] > tfds_source.DOWNLOAD_SHARE  # 4 examples × 2 splits, then done


def test_tfds_offline_says_so_and_names_the_offline_route(studio_dirs, monkeypatch, pretend_online):
    from tlcore.datasets import tfds as tfds_source

    pretend_online(False)
    with pytest.raises(tfds_source.TfdsUnavailable, match=r"offline, so 'tf_flowers' cannot be downloaded.*\.zip"):
        tfds_source.fetch("tf_flowers")
    with pytest.raises(tfds_source.TfdsUnavailable, match="Unknown dataset 'mnist'"):
        tfds_source.fetch("mnist")
    assert {"tf_flowers", "cats_vs_dogs", "cifar10", "rock_paper_scissors"} <= set(tfds_source.CATALOG)


# --- stored settings -----------------------------------------------------------------------------------------------

def test_settings_are_stored_per_dataset_and_survive_a_restart(studio_dirs):
    (studio_dirs.data_root / "a").mkdir()
    (studio_dirs.data_root / "b").mkdir()
    chosen = DatasetSettings(SplitConfig(0.1, 0.3, 9), True, AugmentConfig("vertical", 0.0, 0.0, crop=0.2))

    save_settings("a", chosen)

    assert load_settings("a") == chosen
    assert load_settings(studio_dirs.data_root / "a") == chosen  # the same folder, however it is named
    assert load_settings("b") == DatasetSettings()
    stored = json.loads(settings_path("a").read_text())
    assert stored["dataset"] == str(studio_dirs.data_root / "a") and stored["split"]["seed"] == 9


# --- thumbnails and figures ----------------------------------------------------------------------------------------

def test_thumbnails_are_made_once_and_cached_on_disk(studio_dirs):
    image = studio_dirs.data_root / "x.png"
    image.write_bytes(_png_bytes(9, size=(300, 150)))

    first = cached_thumbnail(image, 96)
    made_at = first.stat().st_mtime_ns

    assert Image.open(first).size == (96, 48)
    assert cached_thumbnail(image, 96) == first and first.stat().st_mtime_ns == made_at
    assert describe(image) == {"name": "x.png", "bytes": image.stat().st_size, "width": 300, "height": 150,
                               "mode": "RGB"}
    (studio_dirs.data_root / "bad.png").write_text("no")
    assert cached_thumbnail(studio_dirs.data_root / "bad.png") is None


def test_pages_are_clamped():
    assert page_of(list(range(10)), 2, 4) == ([4, 5, 6, 7], 3)
    assert page_of(list(range(10)), 9, 4) == ([8, 9], 3)
    assert page_of([], 1, 4) == ([], 1)


def test_size_histograms_and_mode_counts_show_the_data():
    figure = dataset_figures.size_histograms({"width": [10, 20], "height": [5, 20], "aspect": [2.0, 1.0]})
    modes = dataset_figures.mode_counts({"RGB": 5, "L": 7})

    assert [list(trace.x) for trace in figure.data] == [[10, 20], [5, 20], [2.0, 1.0]]
    assert list(modes.data[0].x) == ["L", "RGB"] and list(modes.data[0].y) == [7, 5]


# --- CLI and task --------------------------------------------------------------------------------------------------

def _cli(*args: str):
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[3]
    return subprocess.run([sys.executable, "-m", "tlcore", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(repo)}, timeout=300)


def _write_presplit(root: Path) -> None:
    for split, count in (("train", 4), ("val", 2)):
        for name in ("cats", "dogs"):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                (root / split / name / f"{i}.png").write_bytes(_png_bytes(i * 30 + len(name) + len(split)))
    (root / "train" / "dogs" / "empty.jpg").write_bytes(b"")


def test_cli_scan_prints_counts_per_split_and_the_health_report_as_json(studio_dirs):
    _write_presplit(studio_dirs.data_root / "signs")

    done = _cli("scan", "signs", "--json")
    refused = _cli("scan", "../outside")

    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["counts"] == {"train": {"cats": 4, "dogs": 5}, "val": {"cats": 2, "dogs": 2}}
    assert output["health"]["unreadable"][0]["path"] == "train/dogs/empty.jpg"
    assert output["health"]["split_counts"]["val"] == {"cats": 2, "dogs": 2}
    assert refused.returncode == 2 and refused.stderr.startswith("error: '../outside' is outside the data root")


def test_health_runs_as_a_task_with_progress_and_the_dataset_stored_split(studio_dirs):
    from tlcore.jobs import tasks

    _write_presplit(studio_dirs.data_root / "signs")
    task = tasks.create_task("health", {"dataset": "signs"})

    assert tasks.run_task(task) == {"cancelled": False}

    result = tasks.task_result(task)
    assert result["unreadable_by_reason"] == {"zero bytes": 1} and result["usable_images"] == 12
    assert task.status()["progress"] == 1.0
