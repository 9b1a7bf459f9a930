"""Dataset health report: every problem at once. Counts and imbalance, class folders left out for having no images,
unusable files by reason, links and loops that were not followed, duplicates and split leakage, image sizes.

The expensive part (reading, hashing and decoding every file once) is cached on disk by the scan's fingerprint, so a
folder whose listing has not changed is never decoded twice; training reuses it to leave out broken files. Files are
streamed: hashed in chunks and decoded within the server's pixel budget, never read whole into memory.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from tlcore.config.split import SplitConfig
from tlcore.datasets.scan import (
    BadFile,
    DatasetError,
    DatasetScan,
    check_file,
    open_dataset_file,
    scan_folder,
)
from tlcore.datasets.settings import load_settings
from tlcore.datasets.split import Split, make_split
from tlcore.storage.atomic import DiskFull, read_json, write_json_atomic
from tlcore.datasets.images import UNREADABLE, BadImage, inspect_image, pixel_budget
from tlcore.storage.paths import cache_root, data_root

__all__ = [
    "Report", "IMBALANCE_RATIO", "analysis_path", "cached_report", "analyse_files", "health_report",
    "summarize_sizes", "imbalance", "duplicate_groups", "health_task", "find_bad_files", "known_bad_files",
    "split_dataset", "PROGRESS_EVERY_S", "throttled"
]

Report = Callable[[float, str], None]
IMBALANCE_RATIO = 3.0  # largest / smallest class count from which the report warns
_ANALYSIS_VERSION = 2  # 2: files streamed, decoded within the pixel budget

PROGRESS_EVERY_S = 2.0  # a long step (checking every image, computing features) reports at least this often


def _no_report(fraction: float, message: str) -> None:
    """Progress sink when nobody is watching (CLI without a terminal, tests)."""


def throttled(report: Report, every_s: float | None = None) -> Report:
    """`report` called at most once per `every_s` seconds (PROGRESS_EVERY_S), and always for the last step
    (fraction 1): a step over 100,000 files keeps the page moving without writing status.json 100,000 times."""
    interval = PROGRESS_EVERY_S if every_s is None else every_s
    last = [float("-inf")]

    def send(fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= interval:
            last[0] = now
            report(fraction, message)

    return send


def analysis_path(scan: DatasetScan) -> Path:
    return cache_root() / "health" / f"{scan.fingerprint}.json"


def cached_report(scan: DatasetScan) -> dict | None:
    """The per-file analysis of this exact listing, if one was made before under the same pixel budget."""
    data = read_json(analysis_path(scan))
    fresh = data and data.get("version") == _ANALYSIS_VERSION and data.get("pixel_budget") == pixel_budget()
    return data if fresh else None


def analyse_files(scan: DatasetScan, report: Report = _no_report) -> dict:
    """Read every file once: content hash, size and stored colour mode, or why it cannot be used. Cached.

    A full disk only costs the cache: the analysis is returned with a note saying it could not be kept.
    """
    cached = cached_report(scan)
    if cached is not None:
        return cached
    allowed = data_root()
    files: dict[str, list] = {}
    unreadable: list[dict] = []
    total = len(scan.files)
    every = max(1, total // 100)
    for done, (relative, _) in enumerate(scan.files, start=1):
        record, problem = _analyse_file(scan.root / relative, allowed)
        if record is not None:
            files[relative] = record
        if problem is not None:
            unreadable.append({"path": relative, "reason": problem[0], "message": problem[1]})
        if done % every == 0 or done == total:
            report(done / max(1, total), f"checked {done:,}/{total:,} images")
    analysis = {"version": _ANALYSIS_VERSION, "fingerprint": scan.fingerprint, "pixel_budget": pixel_budget(),
                "files": files, "unreadable": unreadable}
    try:
        write_json_atomic(analysis_path(scan), analysis, what="the health check's result")
    except DiskFull as error:
        return {**analysis, "notes": [f"{error} The check will run again next time."]}
    return analysis


def _analyse_file(path: Path, allowed: Path) -> tuple[list | None, tuple[str, str] | None]:
    """([sha256, width, height, mode] or None, (reason, message) or None) for one file, streamed."""
    try:
        with open_dataset_file(path, allowed) as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()  # in chunks, never the whole file
            handle.seek(0)
            try:
                info = inspect_image(handle)
            except BadImage as error:
                return [digest, None, None, None], (error.reason, str(error))
    except BadImage as error:  # not a regular file inside the data root: never read
        return None, (error.reason, str(error))
    except OSError as error:
        return None, (UNREADABLE, f"cannot be read ({error.strerror or error})")
    return [digest, info.width, info.height, info.mode], None


def health_report(scan: DatasetScan, split_config: SplitConfig | None = None, report: Report = _no_report) -> dict:
    """Everything the Dataset page and `python -m tlcore scan --json` show, as plain JSON-able data.

    Every finding is in it at once: class folders left out (no images), unreadable files by reason, links and loops
    not followed, duplicates and leakage, and why no split can be made, if none can.
    """
    analysis = analyse_files(scan, report)
    unreadable = analysis["unreadable"]
    bad_paths = {item["path"] for item in unreadable}
    usable = [(path, label) for path, label in scan.files if path not in bad_paths]
    counts = Counter(label for _, label in usable)
    class_counts = {name: counts.get(index, 0) for index, name in enumerate(scan.class_names)}
    split, split_error = _split_or_error(scan, split_config or SplitConfig(), analysis)
    records = analysis["files"]
    decoded = [records[path] for path, _ in usable if path in records and records[path][1] is not None]
    return {
        "dataset": scan.root.name,
        "fingerprint": scan.fingerprint,
        "images": len(scan.files),
        "usable_images": len(usable),
        "classes": scan.class_names,
        "class_counts": class_counts,
        "empty_classes": scan.empty_classes,
        "presplit": scan.presplit,
        "split_counts": split.counts() if split else {},
        "split_error": split_error,
        "imbalance": imbalance(class_counts),
        "unreadable": unreadable,
        "unreadable_by_reason": dict(Counter(item["reason"] for item in unreadable)),
        "skipped": scan.skipped,
        "not_read": [asdict(problem) for problem in scan.problems],
        "not_read_by_reason": dict(Counter(problem.reason for problem in scan.problems)),
        "modes": dict(Counter(record[3] for record in decoded)),
        "duplicates": duplicate_groups(scan, records, split),
        "sizes": {"width": [r[1] for r in decoded], "height": [r[2] for r in decoded],
                  "aspect": [round(r[1] / r[2], 3) for r in decoded]},
        "notes": analysis.get("notes", []),
    }


def summarize_sizes(sizes: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """min / median / max of each size list, for text and JSON output where every value would be too much."""
    import numpy as np

    return {key: ({"min": float(np.min(values)), "median": float(np.median(values)), "max": float(np.max(values))}
                  if values else {}) for key, values in sizes.items()}


def imbalance(class_counts: dict[str, int]) -> dict:
    """Largest/smallest ratio, a warning from IMBALANCE_RATIO on, and scikit-learn's 'balanced' class weights."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = {name: count for name, count in class_counts.items() if count > 0}
    if len(present) < 2:
        return {"ratio": None, "warning": None, "class_weights": {}}
    labels = np.repeat(np.arange(len(present)), list(present.values()))
    weights = compute_class_weight("balanced", classes=np.arange(len(present)), y=labels)
    largest, smallest = max(present, key=present.get), min(present, key=present.get)
    ratio = present[largest] / present[smallest]
    warning = None
    if ratio >= IMBALANCE_RATIO:
        warning = (f"Imbalanced: '{largest}' has {present[largest]:,} images, {ratio:.1f}× the {present[smallest]:,} "
                   f"of '{smallest}'. The model will favour the large classes; add images to the small ones or train "
                   "with the suggested class weights.")
    return {"ratio": round(ratio, 3), "warning": warning,
            "class_weights": {name: round(float(w), 4) for name, w in zip(present, weights)}}


def duplicate_groups(scan: DatasetScan, records: dict[str, list], split: Split | None) -> list[dict]:
    """Files with byte-identical content; `leak` when copies sit in different splits (train/val/test)."""
    by_hash: dict[str, list[str]] = defaultdict(list)
    for path, record in records.items():
        if record[1] is not None:  # unreadable files (all empty files share one hash) are reported apart
            by_hash[record[0]].append(path)
    split_of = {}
    if split is not None:
        split_of = {path: name for name in ("train", "val", "test") for path, _ in getattr(split, name)}
    elif scan.presplit:  # no split could be made, but the folders still say where each file sits
        split_of = {path: scan.split_of(path) for path, _ in scan.files}
    label_of = dict(scan.files)
    groups = []
    for paths in by_hash.values():
        if len(paths) < 2:
            continue
        paths = sorted(paths)
        splits = sorted({split_of[p] for p in paths if p in split_of})
        classes = sorted({scan.class_names[label_of[p]] for p in paths})
        groups.append({"paths": paths, "splits": splits, "classes": classes, "leak": len(splits) > 1})
    return sorted(groups, key=lambda group: (not group["leak"], group["paths"]))


def _split_or_error(scan, config, analysis: dict) -> tuple[Split | None, str | None]:
    """The split training would use (for leakage and split counts), or why there is none."""
    try:
        return split_dataset(scan, config, analysis=analysis), None
    except DatasetError as error:
        return None, str(error)


def health_task(params: dict, report: Report) -> dict:
    """Task entry point (kind "health"): the report for params["dataset"] with the dataset's stored split."""
    scan = scan_folder(params["dataset"])
    return health_report(scan, load_settings(params["dataset"]).split, report)


def split_dataset(scan: DatasetScan, config: SplitConfig, report: Report | None = None, *, decode: bool = True,
                  analysis: dict | None = None) -> Split:
    """The one split builder: the files the check finds unusable are left out, then the rest is split (make_split).

    Training (`training.fit.prepare_split`, and a run's first split in `runs.fixed_split.split_for_run`), the health
    report, the Dataset page and the embedding map all split through here, so every one of them puts each file in
    the same part. `decode=False` (a page that must not decode a large folder) leaves out only the files a stored
    check already knows; `analysis` is a per-file analysis at hand (`analyse_files`).

    Raises:
        DatasetError: no split can be made (fractions, a class with too few usable images).
    """
    if analysis is not None:
        bad = _bad_files_of(analysis)
    else:
        bad = find_bad_files(scan, report or _no_report) if decode else known_bad_files(scan)
    return make_split(scan, config, excluded=bad)


def _bad_files_of(analysis: dict) -> list[BadFile]:
    """The unusable files a per-file analysis found, as the split records them (path, message)."""
    return [BadFile(item["path"], item["message"]) for item in analysis["unreadable"]]


def known_bad_files(scan: DatasetScan) -> list[BadFile]:
    """The unusable files a stored check of this exact listing found, without decoding anything (none if unchecked)."""
    cached = cached_report(scan)
    return _bad_files_of(cached) if cached is not None else []


def find_bad_files(scan: DatasetScan, report: Report = _no_report) -> list[BadFile]:
    """Decode every image once; those that fail are reported with a reason and left out of training.

    A health report already computed for this exact listing is reused instead of decoding everything again.
    `report(fraction, "checking images 1,200/5,000")` follows the decoding every PROGRESS_EVERY_S seconds.
    """
    cached = cached_report(scan)
    if cached is not None:
        return _bad_files_of(cached)
    send = throttled(report)
    total = len(scan.files)
    bad = []
    for done, (relative, _) in enumerate(scan.files, start=1):
        problem = check_file(scan.root / relative)
        if problem:
            bad.append(BadFile(relative, problem[1]))
        send(done / total, f"checking images {done:,}/{total:,}")
    return bad
