"""The one way TL Studio opens a `.keras` file: Keras safe mode, TL Studio's layers registered, one error type.

Runs, uploads, external models and custom backbones all load through `load_model`, so a corrupt, unsafe or foreign
file gets the same plain message wherever it is opened.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from tlcore.storage.archive import ArchiveError, inspect_keras_archive

if TYPE_CHECKING:
    import keras

__all__ = ["BadModelFile", "load_model"]


class BadModelFile(ValueError):
    """A model file that cannot be used (corrupt, unsafe, or not what it should be); the message says why."""


def _holds_keras_hub_layers(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        try:
            return b'"keras_hub' in archive.read("config.json")
        except KeyError:
            return False


def load_model(path: str | Path, shown_name: str | None = None) -> "keras.Model":
    """Load a `.keras` file in Keras safe mode (no arbitrary code: Lambda layers are refused), uncompiled.

    The zip checks (is it a zip; member count, sizes and compression ratios within the archive caps of
    `tlcore.storage.archive`) run before TensorFlow is imported, so a wrong or hostile file is refused at once.

    Raises:
        BadModelFile: the file is not a `.keras` archive, holds code, or Keras cannot rebuild it.
    """
    path = Path(path)
    shown = f"`{shown_name or path.name}`"
    if not zipfile.is_zipfile(path):
        raise BadModelFile(f"{shown} is not a Keras model file: a `.keras` file (Keras 3 format) is a zip archive "
                           "holding the model's config and weights, and this one is not (corrupt, truncated, or "
                           "another format such as .h5).")
    try:  # Keras unpacks members to memory or /tmp: a small file must not be able to grow to gigabytes there
        inspect_keras_archive(path)
    except ArchiveError as error:
        raise BadModelFile(f"{shown} was refused before loading: {error.reason}") from None
    import keras

    import tlcore.layers.inference_mode  # noqa: F401 - registers InferenceModeBase, which pretrained runs contain
    import tlcore.layers.preprocess  # noqa: F401 - registers ImagePreprocess, which every run's model contains

    if _holds_keras_hub_layers(path):  # a KerasHub backbone's layers register when keras_hub is imported
        import keras_hub  # noqa: F401

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # noqa: BLE001 - zip, JSON, h5py and Keras errors all mean "cannot use it"
        text = str(error).strip()
        first = text.splitlines()[0][:300] if text else type(error).__name__
        if "safe_mode" in text or "arbitrary code" in text:
            raise BadModelFile(f"{shown} was refused by Keras safe mode: it contains Python code (such as a Lambda "
                               "layer) that would run on this server when loaded. Re-save it without Lambda "
                               "layers.") from None
        if "Could not locate" in text or "Unknown layer" in text:
            raise BadModelFile(f"{shown} uses a custom layer this app does not know, so it cannot be loaded "
                               f"safely ({first}).") from None
        raise BadModelFile(f"{shown} cannot be loaded as a Keras model (corrupt, or it needs layers this app does "
                           f"not have): {type(error).__name__}: {first}") from None
