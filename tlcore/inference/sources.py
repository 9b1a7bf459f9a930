"""Models trained elsewhere: a `.keras` file plus its class names, loaded in Keras safe mode and checked first.

Like TL Studio's own models, an external model must take raw RGB pixels (0..255) at a fixed square size and output
probabilities: one sigmoid unit for two classes, or one unit per class.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import IO

from tlcore.inference.predictor import Predictor
from tlcore.layers.loading import BadModelFile, load_model
from tlcore.modeling.model import head_units
from tlcore.storage.paths import resolve_dataset_path
from tlcore.storage.uploads import keep_upload, owner_file

__all__ = [
    "MAX_CLASSES_SHOWN", "parse_class_names", "store_upload", "model_path_under_data_root", "load_external",
    "shortlist", "predictor_for", "cached_external_predictor"
]

MAX_CLASSES_SHOWN = 8


def parse_class_names(text: str) -> list[str]:
    """Class names from labels.txt (one a line) or a typed list (commas or new lines), in output order."""
    separators = text.replace(",", "\n") if "\n" not in text.strip() else text
    names = [line.strip() for line in separators.splitlines() if line.strip()]
    if len(names) < 2:
        raise BadModelFile("Give at least two class names, in the order of the model's outputs "
                                 "(labels.txt: one a line; typed: separated by commas).")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BadModelFile(f"Class names must be unique; repeated: {', '.join(duplicates)}.")
    return names


def store_upload(source: bytes | IO[bytes], owner: str = "", shown_name: str = "") -> Path:
    """Keep an uploaded model under the cache folder, named by its content (an upload twice is stored once), with
    who uploaded it. A file object (the page's upload) is streamed to disk in chunks, never copied whole in memory."""
    path = keep_upload(source, "external-models", ".keras", what="the uploaded model", owner=owner,
                       shown_name=shown_name)
    if path.stat().st_size == 0:  # nothing to keep
        path.unlink(missing_ok=True)
        owner_file(path).unlink(missing_ok=True)
        raise BadModelFile("The uploaded model file is empty (0 bytes).")
    return path


def model_path_under_data_root(user_path: str) -> Path:
    """A `.keras` path typed by the user, refused outside the data root."""
    path = resolve_dataset_path(user_path)
    if path.suffix != ".keras":
        raise BadModelFile(f"'{user_path}' is not a .keras file (Keras 3's saving format).")
    if not path.is_file():
        raise BadModelFile(f"No file '{user_path}' under the data root.")
    return path


def load_external(path: Path, class_names: list[str], name: str | None = None):
    """A Predictor for the file, or BadModelFile saying why not (corrupt, unsafe, or not matching the classes)."""
    label = name or Path(path).name
    model = load_model(path, shown_name=name)
    units = int(model.output_shape[-1])
    if len(model.outputs) != 1 or units not in (head_units(len(class_names)), len(class_names)):
        raise BadModelFile(
            f"{label} has {units} output unit{'s' if units != 1 else ''} but {len(class_names)} class names were "
            f"given ({shortlist(class_names)}). Give one name per output, in output order "
            f"({'2 names for 1 sigmoid unit' if units == 1 else f'{units} names'}).")
    return Predictor(path, class_names, _input_size(model, label), model=model)


def _input_size(model, label: str) -> int:
    shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if shape is None or len(shape) != 4 or shape[3] != 3:
        raise BadModelFile(f"{label} must take one RGB image input of shape (height, width, 3); "
                                 f"its input is {model.input_shape}.")
    if shape[1] is None or shape[1] != shape[2]:
        raise BadModelFile(f"{label} must take a fixed square image size; its input is {shape[1:]}.")
    return int(shape[1])


def shortlist(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_CLASSES_SHOWN])
    return shown + (", …" if len(names) > MAX_CLASSES_SHOWN else "")


def predictor_for(source: dict) -> Predictor:
    """A model source as pages and tasks pass it: {"run": id}, or {"external": path, "classes": [...]}."""
    if "run" in source:
        return Predictor.for_run(source["run"])

    return load_external(Path(source["external"]), list(source["classes"]))


@lru_cache(maxsize=4)
def cached_external_predictor(path: str, model_mtime: float, class_names: tuple[str, ...]) -> Predictor:
    """Like `cached_predictor`, for an external `.keras` file checked by tlcore.inference.sources."""
    return predictor_for({"external": path, "classes": list(class_names)})
