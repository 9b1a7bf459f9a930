"""Examples added from the browser: camera snapshots and uploaded images written into a class folder.

The same rules as every upload: the class must be a safe folder name, each image must decode (a corrupt capture is
refused, nothing half-written stays), nothing is overwritten, and built-in datasets stay read-only. Each file is
written as PNG (lossless, whatever the browser sent) under a fresh name, atomically, with its owner recorded in the
dataset's examples log.
"""

from __future__ import annotations

import io
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tlcore.curation.cleaner import is_read_only
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.file_lock import file_lock
from tlcore.storage.paths import resolve_dataset_path

__all__ = [
    "EXAMPLES_LOG", "ExampleRefused", "AddedExample", "check_class_name", "add_examples", "added_examples",
    "class_folders", "can_add_examples",
]

EXAMPLES_LOG = ".tlstudio-examples.json"
_SAFE_CLASS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}")  # a folder name on every system, no leading dot
_MAX_PIXELS = 40_000_000


class ExampleRefused(ValueError):
    """The example cannot be added; the message says why. Nothing was written."""


@dataclass(frozen=True)
class AddedExample:
    path: str  # relative to the dataset folder
    owner: str
    at: float


def check_class_name(name: str) -> str:
    """The class name as given, or ExampleRefused saying what a class name may hold."""
    name = name if isinstance(name, str) else ""
    if not _SAFE_CLASS.fullmatch(name) or name.strip() != name:
        raise ExampleRefused("A class name is 1-64 letters, digits, spaces, '_', '.', '+' or '-', starting with a "
                             "letter or digit (it becomes a folder name).")
    return name


def _decoded_png(data: bytes) -> bytes:
    """The image re-encoded as PNG; ExampleRefused when the bytes are not an image Pillow can decode whole."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise ExampleRefused(f"The image is {image.width}×{image.height} pixels; at most 40 megapixels.")
            image.load()
            converted = image.convert("RGB")
    except ExampleRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ExampleRefused(f"Not a readable image ({type(error).__name__}); nothing was added.") from error
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue()


def add_examples(dataset: str | os.PathLike, class_name: str, images: list[bytes], owner: str,
                 prefix: str = "example") -> list[AddedExample]:
    """Write each image into `dataset/class_name/` (made when new) as `<prefix>_<time>_<id>.png`.

    Every image is decoded before anything is written, so one corrupt image refuses the whole batch.
    """
    root = resolve_dataset_path(dataset)
    if not root.is_dir():
        raise ExampleRefused(f"'{Path(dataset).name}' is not a dataset folder.")
    if is_read_only(root):
        raise ExampleRefused(f"'{root.name}' is a built-in or downloaded dataset and read-only; copy it to a folder "
                             "of your own under the data root to add examples.")
    check_class_name(class_name)
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", prefix):
        raise ExampleRefused("The file-name prefix is 1-32 lower-case letters, digits, '_' or '-'.")
    encoded = [_decoded_png(data) for data in images]
    folder = root / class_name
    folder.mkdir(exist_ok=True)
    added = []
    stamp = time.strftime("%Y%m%d_%H%M%S")
    for data in encoded:
        name = f"{prefix}_{stamp}_{uuid.uuid4().hex[:8]}.png"
        target, tmp = folder / name, folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, target)
        added.append(AddedExample(f"{class_name}/{name}", owner, time.time()))
    with file_lock(root / f"{EXAMPLES_LOG}.lock"):
        entries = read_json(root / EXAMPLES_LOG, default={}).get("examples", [])
        entries.extend({"path": each.path, "owner": each.owner, "at": each.at} for each in added)
        write_json_atomic(root / EXAMPLES_LOG, {"examples": entries}, what="the dataset's examples log")
    return added


def added_examples(dataset: str | os.PathLike) -> list[AddedExample]:
    """Every example added from the browser, oldest first (who added it, when)."""
    root = resolve_dataset_path(dataset)
    return [AddedExample(**entry) for entry in read_json(root / EXAMPLES_LOG, default={}).get("examples", [])]


def class_folders(dataset: str | os.PathLike) -> list[str]:
    """The class folders of a flat dataset as they are on disk, empty ones included (a new dataset may have none)."""
    root = resolve_dataset_path(dataset)
    return sorted(entry.name for entry in root.iterdir()
                  if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith(("_", ".")))


def can_add_examples(dataset: str | os.PathLike) -> bool:
    """True for a folder under the data root that TL Studio does not manage: examples may start its classes."""
    try:
        root = resolve_dataset_path(dataset)
        return root.is_dir() and not is_read_only(root)
    except (OSError, ValueError):  # PathOutsideRoot is a ValueError
        return False
