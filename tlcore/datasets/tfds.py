"""TensorFlow Datasets image-classification sets by name, downloaded on demand and written out as an ordinary
class-folder dataset under the data root, so they go through exactly the code path of a user's own folder.

TFDS keeps its download in `cache/tfds/`; the image folder is written once (marked complete) and reused after that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tlcore import network
from tlcore.storage.file_lock import file_lock
from tlcore.storage.paths import cache_root, data_root

__all__ = [
    "Report", "WATCH_INTERVAL_S", "DOWNLOAD_SHARE", "TfdsDataset", "CATALOG", "TfdsUnavailable", "folder_name",
    "dataset_folder", "is_ready", "tfds_cache", "offline_message", "fetch", "download_folder", "folder_bytes",
    "tfds_task"
]

Report = Callable[[float, str], None]
_COMPLETE_MARKER = ".complete"
WATCH_INTERVAL_S = 1.0  # how often the download's bytes on disk are reported
DOWNLOAD_SHARE = 0.6  # the part of the bar for downloading + preparing; writing the image folders is the rest


@dataclass(frozen=True)
class TfdsDataset:
    name: str  # the TFDS name
    title: str
    splits: tuple[str, ...]  # TFDS splits written out; more than one gives a pre-split train/ test/ folder
    download_mb: int  # as listed in the TFDS catalog, so the page can say what a download costs


CATALOG = {entry.name: entry for entry in (
    TfdsDataset("tf_flowers", "Flowers: 5 kinds, 3,670 photos", ("train",), 218),
    TfdsDataset("cats_vs_dogs", "Cats vs dogs: 23,262 photos", ("train",), 787),
    TfdsDataset("cifar10", "CIFAR-10: 10 classes, 60,000 images of 32×32 px", ("train", "test"), 163),
    TfdsDataset("rock_paper_scissors", "Rock, paper, scissors: 2,892 hand images", ("train", "test"), 220),
)}


class TfdsUnavailable(RuntimeError):
    """The dataset cannot be fetched (offline, unknown name, download failed); the message gives the way round."""


def folder_name(name: str) -> str:
    return f"tfds-{name}"


def dataset_folder(name: str) -> Path:
    return data_root() / folder_name(name)


def is_ready(name: str) -> bool:
    return (dataset_folder(name) / _COMPLETE_MARKER).exists()


def tfds_cache() -> Path:
    return cache_root() / "tfds"


def offline_message(name: str) -> str:
    return (f"This server is offline, so '{name}' cannot be downloaded. On a machine with internet run "
            f"`python -c \"import tensorflow_datasets as tfds; tfds.builder('{name}').download_and_prepare()\"`, "
            f"then copy ~/tensorflow_datasets/{name} to {tfds_cache() / name} here and try again; or upload the "
            "images as a .zip of class folders, or use a folder already on this server.")


def fetch(name: str, report: Report = lambda fraction, message: None) -> Path:
    """Download (if needed) and write `data_root()/tfds-<name>/` as class folders; returns that folder.

    One fetch per name at a time (a lock file under the TFDS cache): a second request waits, then finds it ready.
    The folder is TL Studio's only when it holds the marker written last: a folder of that name without it (a
    user's upload, say) is never replaced or removed.
    """
    if name not in CATALOG:
        raise TfdsUnavailable(f"Unknown dataset '{name}'. Available: {', '.join(CATALOG)}.")
    with file_lock(tfds_cache() / "locks" / f"{name}.lock"):  # one download of a dataset at a time
        if is_ready(name):
            return dataset_folder(name)
        _refuse_foreign_folder(name)
        return _fetch_unlocked(name, report)


def _refuse_foreign_folder(name: str) -> None:
    target = dataset_folder(name)
    if target.exists() or target.is_symlink():
        raise TfdsUnavailable(
            f"A folder named '{target.name}' already exists in the data root and was not written by this app's "
            f"TFDS fetch, so it is left as it is. Use it as a folder dataset, or rename it to fetch '{name}'.")


def _fetch_unlocked(name: str, report: Report) -> Path:
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=str(tfds_cache()))
    if builder.is_prepared():
        return _write_class_folders(builder, CATALOG[name], report)
    if not network.is_online():
        raise TfdsUnavailable(offline_message(name))
    report(0.0, f"downloading {name} (about {CATALOG[name].download_mb} MB)…")
    watch = _DownloadWatch(CATALOG[name], report)  # TFDS itself reports only to a terminal (tqdm)
    try:
        with watch:
            builder.download_and_prepare(download_dir=str(download_folder()))
    except Exception as error:  # network, disk, checksum: every one of them gets the offline route
        raise TfdsUnavailable(f"Downloading '{name}' failed ({type(error).__name__}: {error}). "
                              + offline_message(name)) from error
    watch.finish()
    return _write_class_folders(builder, CATALOG[name], _scaled(report, DOWNLOAD_SHARE, 1.0))


def download_folder() -> Path:
    """Where TFDS keeps the downloaded archives (and their extracted copies, under `extracted/`)."""
    return tfds_cache() / "downloads"


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under `folder` (0 when it does not exist); files vanishing meanwhile are skipped."""
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for filename in filenames:
            try:
                total += os.stat(os.path.join(dirpath, filename)).st_size
            except OSError:
                continue
    return total


class _DownloadWatch:
    """While TFDS downloads and prepares, reports the bytes it has written every `WATCH_INTERVAL_S`, from a thread.

    Downloading fills `downloads/` (the archive, then its extracted copy: about twice the catalog's size), then
    preparing writes the dataset's records (about once more); both count, so the bar moves through both steps. It
    never goes back, and stays short of `DOWNLOAD_SHARE` until TFDS has returned. An exception from `report` (a task
    being cancelled) is raised by `finish` once TFDS returns: a download cannot be stopped from another thread.
    """

    def __init__(self, entry: TfdsDataset, report: Report):
        self.entry, self.report = entry, report
        self.expected = 3 * max(1, entry.download_mb) * 1_000_000
        self.baseline = folder_bytes(download_folder())  # other datasets' downloads
        self.fraction = 0.0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name=f"tfds-download-{entry.name}", daemon=True)

    @property
    def records_folder(self) -> Path:
        return tfds_cache() / self.entry.name

    def __enter__(self) -> "_DownloadWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()

    def finish(self) -> None:
        """After TFDS returned: raise what `report` raised in the thread (a cancel), else report the step done."""
        if self.error is not None:
            raise self.error
        self.report(DOWNLOAD_SHARE, f"{self.entry.name} downloaded and prepared")

    def _watch(self) -> None:
        while not self.stop.wait(WATCH_INTERVAL_S):
            downloaded = max(0, folder_bytes(download_folder()) - self.baseline)
            prepared = folder_bytes(self.records_folder)
            written = downloaded + prepared
            self.fraction = max(self.fraction, round(DOWNLOAD_SHARE * min(0.99, written / self.expected), 4))
            step = "preparing" if prepared else "downloading"
            try:
                self.report(self.fraction, f"{step} {self.entry.name}: {written / 1e6:,.1f} MB written (download "
                                           f"about {self.entry.download_mb} MB)")
            except BaseException as error:  # noqa: BLE001 - kept for the main thread, which raises it
                self.error = error
                return


def _scaled(report: Report, start: float, end: float) -> Report:
    """`report` for a step that is the part [start, end] of the whole bar."""
    return lambda fraction, message: report(start + (end - start) * fraction, message)


def _write_class_folders(builder, entry: TfdsDataset, report: Report) -> Path:
    import tensorflow_datasets as tfds

    class_names = builder.info.features["label"].names
    target = dataset_folder(entry.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=data_root()))
    try:
        for split_index, split in enumerate(entry.splits):
            prefix = staging / split if len(entry.splits) > 1 else staging
            dataset = builder.as_dataset(split=split, decoders={"image": tfds.decode.SkipDecoding()})
            total = int(dataset.cardinality()) if int(dataset.cardinality()) > 0 else 0
            last_report = time.monotonic()
            for index, example in enumerate(tfds.as_numpy(dataset)):
                class_dir = prefix / class_names[int(example["label"])]
                class_dir.mkdir(parents=True, exist_ok=True)
                encoded = bytes(example["image"])
                (class_dir / f"{split}_{index:06d}{_extension(encoded)}").write_bytes(encoded)
                every_50th = total and (index + 1) % max(1, total // 50) == 0
                if every_50th or time.monotonic() - last_report >= WATCH_INTERVAL_S:  # unknown total: by time
                    last_report = time.monotonic()
                    done = (split_index + min(1.0, (index + 1) / total if total else 0.0)) / len(entry.splits)
                    report(done, f"writing {split} images: {index + 1:,}/{total or '?'}")
        (staging / _COMPLETE_MARKER).write_text(f"written by tlcore.datasets.tfds from TFDS '{entry.name}'\n")
        staging.rename(target)  # fails rather than replace a folder that appeared meanwhile: nothing is deleted
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _extension(encoded: bytes) -> str:
    """TFDS keeps images as the original encoded bytes; name each file after its real format."""
    if encoded.startswith(b"\x89PNG"):
        return ".png"
    if encoded.startswith(b"\xff\xd8"):
        return ".jpg"
    return ".bin"  # not an image format the scan recognises: it shows up as skipped rather than silently misread


def tfds_task(params: dict, report: Report) -> dict:
    """Task entry point (kind "tfds"): fetch params["name"]; the result names the dataset folder."""
    folder = fetch(params["name"], report)
    return {"dataset": folder.name, "path": str(folder)}
