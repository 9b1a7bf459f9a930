"""Models trained elsewhere: a `.keras` file plus its class names, loaded in Keras safe mode and checked first.

Like TL Studio's own models, an external model must take raw RGB pixels (0..255) at a fixed square size and output
probabilities: one sigmoid unit for two classes, or one unit per class.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tlcore.model import head_units
from tlcore.paths import resolve_dataset_path
from tlcore.uploads import keep_upload

MAX_CLASSES_SHOWN = 8


class ExternalModelError(ValueError):
    """The file or the class names cannot be used; the message says what is wrong in a user's words."""


def parse_class_names(text: str) -> list[str]:
    """Class names from labels.txt (one a line) or a typed list (commas or new lines), in output order."""
    separators = text.replace(",", "\n") if "\n" not in text.strip() else text
    names = [line.strip() for line in separators.splitlines() if line.strip()]
    if len(names) < 2:
        raise ExternalModelError("Give at least two class names, in the order of the model's outputs "
                                 "(labels.txt: one a line; typed: separated by commas).")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ExternalModelError(f"Class names must be unique; repeated: {', '.join(duplicates)}.")
    return names


def store_upload(data: bytes) -> Path:
    """Keep an uploaded model under the cache folder, named by its content (an upload twice is stored once)."""
    if not data:
        raise ExternalModelError("The uploaded model file is empty (0 bytes).")
    return keep_upload(data, "external-models", ".keras")


def model_path_under_data_root(user_path: str) -> Path:
    """A `.keras` path typed by the user, refused outside the data root."""
    path = resolve_dataset_path(user_path)
    if path.suffix != ".keras":
        raise ExternalModelError(f"'{user_path}' is not a .keras file (Keras 3's saving format).")
    if not path.is_file():
        raise ExternalModelError(f"No file '{user_path}' under the data root.")
    return path


def load_external(path: Path, class_names: list[str], name: str | None = None):
    """A Predictor for the file, or ExternalModelError saying why not (corrupt, unsafe, or not matching the classes)."""
    from tlcore.predict import Predictor, load_model

    label = name or Path(path).name
    if not zipfile.is_zipfile(path):
        raise ExternalModelError(f"{label} is not a readable .keras file: a .keras file is a zip archive and this "
                                 "one is not (corrupt, truncated, or another format such as .h5).")
    try:
        model = load_model(path)
    except Exception as error:  # noqa: BLE001 - Keras raises many types for a bad file; all mean "cannot load"
        raise ExternalModelError(_load_failure(label, error)) from error
    units = int(model.output_shape[-1])
    if len(model.outputs) != 1 or units not in (head_units(len(class_names)), len(class_names)):
        raise ExternalModelError(
            f"{label} has {units} output unit{'s' if units != 1 else ''} but {len(class_names)} class names were "
            f"given ({_shortlist(class_names)}). Give one name per output, in output order "
            f"({'2 names for 1 sigmoid unit' if units == 1 else f'{units} names'}).")
    return Predictor(path, class_names, _input_size(model, label), model=model)


def _input_size(model, label: str) -> int:
    shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if shape is None or len(shape) != 4 or shape[3] != 3:
        raise ExternalModelError(f"{label} must take one RGB image input of shape (height, width, 3); "
                                 f"its input is {model.input_shape}.")
    if shape[1] is None or shape[1] != shape[2]:
        raise ExternalModelError(f"{label} must take a fixed square image size; its input is {shape[1:]}.")
    return int(shape[1])


def _load_failure(label: str, error: Exception) -> str:
    text = str(error)
    if "safe_mode" in text or "arbitrary code" in text:
        return (f"{label} was refused by Keras safe mode: it contains Python code (such as a Lambda layer) that "
                "would run on this server when loaded. Re-save the model without Lambda layers.")
    if "Could not locate" in text or "Unknown layer" in text:
        return f"{label} uses a custom layer this app does not know, so it cannot be loaded safely ({text[:200]})."
    return f"{label} is not a readable .keras file ({type(error).__name__}: {text[:200]})."


def _shortlist(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_CLASSES_SHOWN])
    return shown + (", …" if len(names) > MAX_CLASSES_SHOWN else "")


def evaluate_external(model_path: Path, class_names: list[str], dataset: str,
                      report: Callable[[float, str], None] | None = None, batch: int = 64) -> dict[str, Any]:
    """Accuracy, loss, confusion matrix and per-class scores of an external model on every image of a class-folder
    dataset whose folder names are the model's class names."""
    from tlcore.data import scan_folder
    from tlcore.evaluate import classification_report
    from tlcore.images import load_array

    report = report or (lambda fraction, message: None)
    scan = scan_folder(dataset)
    unknown = [name for name in scan.class_names if name not in class_names]
    if unknown:
        raise ExternalModelError(f"These class folders of {scan.root.name} are not among the model's classes: "
                                 f"{_shortlist(unknown)}. Folder names must match the class names.")
    predictor = load_external(Path(model_path), class_names)
    items = [(relative, class_names.index(scan.class_names[label])) for relative, label in scan.files]
    chunks = []
    for start in range(0, len(items), batch):
        part = items[start:start + batch]
        images = np.stack([load_array(scan.root / relative, predictor.image_size) for relative, _ in part])
        chunks.append(predictor.probabilities(images))
        report((start + len(part)) / len(items), f"{start + len(part)}/{len(items)} images")
    result = classification_report(np.array([label for _, label in items]), np.concatenate(chunks), class_names,
                                   split_name=f"all of {scan.root.name}", files=[relative for relative, _ in items])
    return {**result, "model": Path(model_path).name, "dataset": dataset}


def evaluate_external_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task entry point (kind "evaluate_external"): params {"model": path, "classes": [...], "dataset": folder}."""
    return evaluate_external(Path(params["model"]), params["classes"], params["dataset"], report)


