"""Predict a whole folder (under the data root) or a zip of images in one background task → table and CSV.

A zip is read in memory, entry by entry; one holding absolute paths or `..` is refused whole, never extracted.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from tlcore.inference.sources import predictor_for
from tlcore.storage.images import is_image_name
from tlcore.storage.paths import resolve_dataset_path
from tlcore.storage.uploads import keep_upload

__all__ = [
    "CHUNK", "CSV_COLUMNS", "BatchInputError", "folder_sources", "unsafe_entry", "zip_image_names", "store_zip",
    "predict_batch", "rows_to_csv", "batch_predict_task"
]

CHUNK = 64
CSV_COLUMNS = ["image", "answer", "predicted", "probability", "top_k", "error"]  # answer: "not sure" below threshold


class BatchInputError(ValueError):
    """The folder or zip cannot be read as a batch of images; the message says why."""


def folder_sources(user_path: str) -> list[tuple[str, Path]]:
    """(path relative to the folder, file) for every image under a folder of the data root, sorted."""
    root = resolve_dataset_path(user_path)
    if not root.is_dir():
        raise BatchInputError(f"'{user_path}' is not a folder under the data root.")
    found = sorted(path for path in root.rglob("*") if path.is_file() and is_image_name(path.name)
                   and not any(part.startswith(".") for part in path.relative_to(root).parts))
    if not found:
        raise BatchInputError(f"'{user_path}' holds no image files.")
    return [(str(path.relative_to(root)), path) for path in found]


def unsafe_entry(name: str) -> bool:
    """An absolute path, a Windows drive, or a `..` component: could point outside wherever it were unpacked."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    return path.is_absolute() or ".." in path.parts or (len(normalised) > 1 and normalised[1] == ":")


def zip_image_names(path: Path, label: str | None = None) -> list[str]:
    """Image entries of a zip, refusing the whole archive if any entry is unsafe. `label`: the name the user knows."""
    label = label or path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BatchInputError(f"{label} is not a readable zip file ({error}).") from error
    with archive:
        names = archive.namelist()
    unsafe = [name for name in names if unsafe_entry(name)]
    if unsafe:
        raise BatchInputError(f"{label} was refused: it holds entries with absolute paths or '..' "
                              f"({', '.join(unsafe[:3])}). Nothing was read.")
    images = [name for name in names if not name.endswith("/") and is_image_name(PurePosixPath(name).name)
              and not any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(name).parts)]
    if not images:
        raise BatchInputError(f"{label} holds no image files.")
    return sorted(images)


def store_zip(data: bytes) -> Path:
    """Keep an uploaded zip where the task process can read it, named by its content."""
    if not data:
        raise BatchInputError("The uploaded zip is empty (0 bytes).")
    return keep_upload(data, "uploads", ".zip")


def _zip_chunks(path: Path, names: list[str]) -> Iterator[list[tuple[str, bytes]]]:
    with zipfile.ZipFile(path) as archive:
        for start in range(0, len(names), CHUNK):
            yield [(name, archive.read(name)) for name in names[start:start + CHUNK]]


def _folder_chunks(sources: list[tuple[str, Path]]) -> Iterator[list[tuple[str, Path]]]:
    for start in range(0, len(sources), CHUNK):
        yield sources[start:start + CHUNK]


def predict_batch(predictor, chunks: Iterator[list], total: int, top_k: int = 3,
                  report: Callable[[float, str], None] | None = None) -> list[dict[str, Any]]:
    """One row per image (unreadable ones get an error, the batch goes on), with progress after each chunk."""
    report = report or (lambda fraction, message: None)
    rows: list[dict[str, Any]] = []
    for chunk in chunks:
        for prediction in predictor.predict_files(chunk, top_k=top_k):
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
    """

    if params.get("zip"):
        zip_path = Path(params["zip"])
        source = params.get("zip_name") or zip_path.name
        names = zip_image_names(zip_path, source)
        chunks, total = _zip_chunks(zip_path, names), len(names)
    else:
        sources = folder_sources(params["folder"])
        source, chunks, total = params["folder"], _folder_chunks(sources), len(sources)
    report(0.0, f"loading the model for {total} images")
    rows = predict_batch(predictor_for(params["model"]), chunks, total, int(params.get("top_k", 3)), report)
    return {"source": source, "images": total, "errors": sum(1 for row in rows if row["error"]), "rows": rows}
