"""Predict a whole folder (under the data root) or a zip of images in one background task → table and CSV.

A zip is checked whole before anything is read (the same caps and refusals as a dataset upload: unsafe, colliding,
encrypted entries, ratios, count, total) and then streamed entry by entry, in 1 MiB pieces; an image larger than a
few MiB is spooled to a temporary file, so neither the zip nor a large image is ever held whole in memory. A
damaged entry becomes an error row and the batch goes on. A folder is read the way the dataset scan reads one:
nothing outside the data root, never a pipe.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO, Callable, Iterator

from tlcore.datasets.scan import open_dataset_file
from tlcore.inference.sources import predictor_for
from tlcore.storage.archive import ArchiveError, ZipCaps, check_zip, open_zip, read_entry, unsafe_entry_reason
from tlcore.storage.atomic import disk_full_guard
from tlcore.datasets.images import BadImage, is_image_name
from tlcore.storage.paths import data_root, resolve_dataset_path
from tlcore.storage.uploads import keep_upload, owner_file

__all__ = [
    "CHUNK", "CSV_COLUMNS", "BatchInputError", "BatchZip", "Unreadable", "folder_sources", "unsafe_entry",
    "check_batch_zip", "store_zip", "predict_batch", "rows_to_csv", "batch_predict_task"
]

CHUNK = 64
CSV_COLUMNS = ["image", "answer", "predicted", "probability", "top_k", "error"]  # answer: "not sure" below threshold
_IN_MEMORY_BYTES = 2 << 20  # an entry larger than this is spooled to a temporary file while it is predicted


class BatchInputError(ValueError):
    """The folder or zip cannot be read as a batch of images; the message says why."""


@dataclass(frozen=True)
class BatchZip:
    """A checked zip of images: the image entries to predict, sorted, and the archives inside it left closed."""

    images: list[str]
    nested_archives: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Unreadable:
    """Stands in for an image that could not even be read (a damaged entry, a link out of the data root)."""

    message: str


def folder_sources(user_path: str) -> list[tuple[str, Path]]:
    """(path relative to the folder, file) for every image under a folder of the data root, sorted.

    Folder links are not followed; file links are kept only when they stay inside the data root (others become
    error rows when read), like the dataset scan.
    """
    root = resolve_dataset_path(user_path)
    if not root.is_dir():
        raise BatchInputError(f"'{user_path}' is not a folder under the data root.")
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += [Path(folder) / name for name in files if is_image_name(name)]
    if not found:
        raise BatchInputError(f"'{user_path}' holds no image files.")
    return sorted((str(path.relative_to(root)), path) for path in found)


def unsafe_entry(name: str) -> bool:
    """An absolute path, a Windows drive, or a `..` component: could point outside wherever it were unpacked."""
    return unsafe_entry_reason(name) is not None


def check_batch_zip(path: Path, label: str | None = None, caps: ZipCaps | None = None) -> BatchZip:
    """Check a zip of images whole before anything is read; `label`: the name the user knows it by.

    Raises:
        BatchInputError: it is not a zip, holds unsafe entries, breaks a cap, holds colliding, encrypted or
            unreadable names, or no image at all. The message names the zip and the entries.
    """
    label = label or path.name
    caps = caps or ZipCaps()
    try:
        archive, archive_bytes = open_zip(path, caps)
    except ArchiveError as error:
        if error.reason.startswith("Not a readable"):
            raise BatchInputError(f"{label} is not a readable zip file ({error.__cause__}).") from error
        raise BatchInputError(f"{label} was refused: {error.reason} Nothing was read.") from error
    with archive:
        unsafe = [name for name in archive.namelist() if unsafe_entry(name)]
        if unsafe:
            raise BatchInputError(f"{label} was refused: it holds entries with absolute paths or '..' "
                                  f"({', '.join(unsafe[:3])}). Nothing was read.")
        try:
            listing = check_zip(archive, archive_bytes, caps)
        except ArchiveError as error:
            if error.reason == "The zip holds no files.":
                raise BatchInputError(f"{label} holds no image files.") from error
            raise BatchInputError(f"{label} was refused: {error.reason} Nothing was read.") from error
    images = [info.filename for info in listing.files if is_image_name(PurePosixPath(info.filename).name)
              and not any(part.startswith(".") for part in PurePosixPath(info.filename).parts)]
    if not images:
        raise BatchInputError(f"{label} holds no image files.")
    return BatchZip(sorted(images), listing.nested_archives)


def store_zip(source: bytes | IO[bytes], owner: str = "", shown_name: str = "") -> Path:
    """Keep an uploaded zip where the task process can read it, named by its content, with who uploaded it. A file
    object (the page's upload) is streamed to disk in chunks, never copied whole in memory.

    Raises:
        BatchInputError: the upload is empty.
        DiskFull: the disk is full; no partial file is left.
    """
    path = keep_upload(source, "uploads", ".zip", what="the uploaded zip", owner=owner, shown_name=shown_name)
    if path.stat().st_size == 0:  # nothing to keep
        path.unlink(missing_ok=True)
        owner_file(path).unlink(missing_ok=True)
        raise BatchInputError("The uploaded zip is empty (0 bytes).")
    return path


def _zip_chunks(path: Path, names: list[str], caps: ZipCaps) -> Iterator[list[tuple[str, BinaryIO | Unreadable]]]:
    """Up to CHUNK (name, spooled entry) at a time, each entry streamed through the caps."""
    archive, _ = open_zip(path, caps)
    with archive:
        infos = {info.filename: info for info in archive.infolist()}
        unpacked = 0
        for start in range(0, len(names), CHUNK):
            chunk: list[tuple[str, BinaryIO | Unreadable]] = []
            try:
                for name in names[start:start + CHUNK]:
                    spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES)
                    chunk.append((name, spool))
                    try:
                        with disk_full_guard("an image of the zip, while predicting"):
                            for piece in read_entry(archive, infos[name], caps, unpacked):
                                spool.write(piece)
                                unpacked += len(piece)
                        spool.seek(0)
                    except ArchiveError as error:
                        chunk[-1] = (name, Unreadable(f"{name} cannot be read from the zip: {error.reason}"))
                        spool.close()
                yield chunk
            finally:
                for _, source in chunk:
                    if not isinstance(source, Unreadable):
                        source.close()


def _folder_chunks(sources: list[tuple[str, Path]]) -> Iterator[list[tuple[str, BinaryIO | Unreadable]]]:
    """Up to CHUNK (name, open file) at a time, each opened the checked way (inside the data root, not a pipe)."""
    allowed = data_root()
    for start in range(0, len(sources), CHUNK):
        chunk: list[tuple[str, BinaryIO | Unreadable]] = []
        try:
            for name, path in sources[start:start + CHUNK]:
                try:
                    chunk.append((name, open_dataset_file(path, allowed)))
                except BadImage as error:
                    chunk.append((name, Unreadable(f"{name} is not read: {error}")))
                except OSError as error:
                    chunk.append((name, Unreadable(f"{name} cannot be read ({error.strerror or error})")))
            yield chunk
        finally:
            for _, source in chunk:
                if not isinstance(source, Unreadable):
                    source.close()


def predict_batch(predictor, chunks: Iterator[list], total: int, top_k: int = 3,
                  report: Callable[[float, str], None] | None = None) -> list[dict[str, Any]]:
    """One row per image (unreadable ones get an error, the batch goes on), with progress after each chunk."""
    report = report or (lambda fraction, message: None)
    rows: list[dict[str, Any]] = []
    for chunk in chunks:
        readable = [(name, source) for name, source in chunk if not isinstance(source, Unreadable)]
        predictions = iter(predictor.predict_files(readable, top_k=top_k) if readable else [])
        for name, source in chunk:
            if isinstance(source, Unreadable):
                rows.append({"image": name, "answer": "", "predicted": None, "probability": None, "top_k": "",
                             "error": source.message})
                continue
            prediction = next(predictions)
            best = prediction.top[0] if prediction.top else (None, None)
            rows.append({"image": prediction.name, "answer": prediction.answer or "", "predicted": best[0],
                         "probability": best[1],
                         "top_k": "; ".join(f"{name} {p:.1%}" for name, p in prediction.top),
                         "error": prediction.error or ""})
        report(len(rows) / total, f"{len(rows)}/{total} images")
    return rows


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def batch_predict_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task entry point (kind "batch_predict"): params {"model": model source, "folder" or "zip" (+ "zip_name"), "top_k"}.

    The model source is what `tlcore.inference.sources.predictor_for` takes: {"run": id} or {"external": path, "classes": [...]}.
    The zip is checked again here: the task trusts nothing the page checked.
    """

    nested: list[str] = []
    if params.get("zip"):
        zip_path = Path(params["zip"])
        source = params.get("zip_name") or zip_path.name
        caps = ZipCaps()
        checked = check_batch_zip(zip_path, source, caps)
        names, nested = checked.images, checked.nested_archives
        chunks, total = _zip_chunks(zip_path, names, caps), len(names)
    else:
        sources = folder_sources(params["folder"])
        source, chunks, total = params["folder"], _folder_chunks(sources), len(sources)
    report(0.0, f"loading the model for {total} images")
    rows = predict_batch(predictor_for(params["model"]), chunks, total, int(params.get("top_k", 3)), report)
    return {"source": source, "images": total, "errors": sum(1 for row in rows if row["error"]), "rows": rows,
            "nested_archives": nested}
