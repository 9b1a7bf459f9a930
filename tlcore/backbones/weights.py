"""Where ImageNet weights come from, and a plain answer when they cannot be had (offline is normal)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO

from tlcore.backbones import catalog as backbones
from tlcore.backbones.kerashub import KerasHubBackbone, local_preset, offline_advice, presets_root
from tlcore.backbones.registry import Backbone
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM
from tlcore import network
from tlcore.storage.atomic import write_json_atomic
from tlcore.storage.paths import keras_models_dir
from tlcore.storage.uploads import copy_in_chunks

__all__ = [
    "WeightsUnavailable", "WeightsStatus", "status", "registry_rows", "imagenet_problem", "WeightsFileRejected",
    "INSTALLED_FOLDER", "SOURCES_FILE", "download_source", "installed_path", "keras_weights", "pretrained_weights",
    "install_weights"
]

SOURCES_FILE = Path(__file__).parent / "weights_sources.json"  # written by `python -m tlcore.backbones.download`
# Uploaded files Keras would hash-check and delete (VGG16, EfficientNet …: not the published bytes) live here and are
# given to Keras by path; Keras never looks in this sub-folder of its models folder itself.
INSTALLED_FOLDER = "tlstudio-installed"


@lru_cache(maxsize=1)
def _sources() -> dict[str, dict]:
    return json.loads(SOURCES_FILE.read_text())


def download_source(filename: str) -> dict | None:
    """{"url", "file_hash"} Keras downloads `filename` from (file_hash None where Keras checks none), or None."""
    return _sources().get(filename)


def installed_path(backbone: Backbone, image_size: int) -> Path:
    """Where an uploaded file that Keras would not accept under its own name is kept (loaded by path)."""
    return keras_models_dir() / INSTALLED_FOLDER / backbone.weights_filename(image_size)


def keras_weights(backbone: Backbone, image_size: int) -> str:
    """The `weights=` that gives Keras this server's ImageNet weights: an installed upload by path when there is one
    (Keras would delete a file under its own name whose hash is not the published one), else "imagenet"."""
    installed = installed_path(backbone, image_size)
    return str(installed) if installed.is_file() else "imagenet"


class WeightsUnavailable(RuntimeError):
    """ImageNet weights are neither cached nor downloadable; the message says where to put the file."""


@dataclass(frozen=True)
class WeightsStatus:
    backbone: str
    filename: str
    path: Path
    cached: bool
    online: bool | None  # None: not probed
    own: bool = False  # a custom backbone: its weights are its own saved file, there is no ImageNet file
    preset: bool = False  # a KerasHub backbone: `filename` is the preset, `path` the folder it loads from

    @property
    def label(self) -> str:
        if self.own:
            return "own weights"
        if self.cached:
            return "preset folder on server" if self.preset else "cached"
        if self.online is None:
            return "not cached"
        return "downloadable" if self.online else "missing (offline)"

    @property
    def advice(self) -> str:
        if self.own:
            return f"{self.backbone} starts from its own trained weights, saved with the run it was cut from."
        if self.preset:
            return self._preset_advice()
        if self.cached:
            return f"ImageNet weights for {self.backbone} are cached on this server (`{self.filename}`)."
        where = (f"upload `{self.filename}` on the Backbones page (Upload a weights file), or have the server's admin "
                 "copy it into the Keras weights folder")
        if self.online:
            return f"ImageNet weights for {self.backbone} will be downloaded on first use (or {where})."
        return (f"ImageNet weights for {self.backbone} are not cached and this server cannot download them. "
                f"To use them offline, {where} (the file Keras would download), then reload. "
                f"Or train from random initialisation, which needs far more data and epochs.")

    def _preset_advice(self) -> str:
        if self.cached:
            return f"{self.backbone} loads the KerasHub preset `{self.filename}` from its folder on this server."
        if self.online:
            return (f"{self.backbone} downloads the KerasHub preset `{self.filename}` (from Kaggle) on first use; or "
                    "the server's admin places the preset folder in the KerasHub presets folder.")
        return offline_advice(self.filename)


def status(backbone: Backbone, image_size: int, probe_network: bool = False) -> WeightsStatus:
    own = backbone.own_weights_file
    if own is not None:
        return WeightsStatus(backbone.name, own.name, own, cached=own.is_file(), online=None, own=True)
    if isinstance(backbone, KerasHubBackbone):
        cached = local_preset(backbone.preset) is not None
        online = network.is_online() if (probe_network and not cached) else None
        return WeightsStatus(backbone.name, backbone.preset, presets_root() / backbone.preset, cached, online,
                             preset=True)
    filename = backbone.weights_filename(image_size)
    path = keras_models_dir() / filename
    if installed_path(backbone, image_size).is_file():  # an upload Keras loads by path
        path = installed_path(backbone, image_size)
    cached = path.is_file() and path.stat().st_size > 0
    online = network.is_online() if (probe_network and not cached) else None
    return WeightsStatus(backbone.name, filename, path, cached, online)


def registry_rows() -> list[dict]:
    """Every backbone's published figures plus its weights status at its default size (table and CLI); custom
    backbones last."""

    return [{**backbone.to_row(), "weights": status(backbone, backbone.default_size).label}
            for backbone in map(backbones.get, backbones.all_names())]


def imagenet_problem(backbone: Backbone, image_size: int, probe_network: bool = False) -> str | None:
    """Why ImageNet (or preset) weights cannot be used at this size, or None when they can. `probe_network`: also
    say so when a KerasHub preset is not on this server and the server is offline (checked where a job is
    submitted, so the CLI and the page answer in one line instead of a failed job's traceback)."""
    problem = backbone.size_problem(image_size)
    if problem:
        return problem
    if probe_network and isinstance(backbone, KerasHubBackbone) and local_preset(backbone.preset) is None \
            and not network.is_online():
        return offline_advice(backbone.preset)
    if backbone.fixed_weights_size and image_size != backbone.fixed_weights_size:
        return (f"{backbone.name}'s ImageNet weights only load at {backbone.fixed_weights_size}×"
                f"{backbone.fixed_weights_size}; choose that image size or random initialisation.")
    return None


def pretrained_weights(backbone: Backbone | str, image_size: int, weights: str, who: str = "This") -> str | None:
    """The `weights=` to build the base with from what is already on this server, for the tools that must not
    download (the backbone probe, transferability by depth, the embedding map): None for "random"; for "imagenet"
    `keras_weights` (an installed upload by path, else "imagenet") once the file is cached; any other value is a
    weights file, which must exist. Raises WeightsUnavailable rather than falling back to random weights, and
    ValueError for a weights file that is not there. `who` starts the message ("The probe")."""
    backbone = backbones.get(backbone) if isinstance(backbone, str) else backbone
    if weights == WEIGHTS_RANDOM:
        return None
    if weights != WEIGHTS_IMAGENET:
        if not Path(weights).expanduser().is_file():
            raise ValueError(f"Weights file not found: {weights} (use 'imagenet', 'random' or a weights file).")
        return str(Path(weights).expanduser())
    if not backbone.has_pretrained_weights:
        raise WeightsUnavailable(f"{backbone.name} has no pretrained weights: choose random weights.")
    problem = imagenet_problem(backbone, image_size)
    if problem:
        raise WeightsUnavailable(problem)
    state = status(backbone, image_size)
    if not state.cached:
        raise WeightsUnavailable(
            f"Pretrained weights for {backbone.name} are not cached on this server; {who.lower()} does not download. "
            "Upload the weights file on the Backbones page, or choose random weights.")
    return keras_weights(backbone, image_size)


class WeightsFileRejected(ValueError):
    """An uploaded weights file does not load into the backbone it was offered for; the message names the architecture."""


def install_weights(backbone: Backbone | str, image_size: int, data: bytes | IO[bytes],
                    owner: str = "") -> Path:
    """Install an uploaded ImageNet weights file (`.h5` or Keras 3 `.weights.h5`) for an offline server.

    The file is first loaded into the base (include_top=False) by path. It is then stored where Keras's own loading
    accepts it: under the exact name Keras looks for in `keras_models_dir()` when Keras checks no hash for it or its
    hash is the published one; otherwise (a converted `.weights.h5`, weights other than the published bytes of a
    hash-checked backbone such as VGG16, which Keras would delete and try to download again) in `INSTALLED_FOLDER`,
    given to Keras by path (`keras_weights`). Finally the base is built exactly as training will build it; if that
    fails the file is removed and the upload refused, and no owner record is written. Imports TensorFlow.
    """
    import shutil
    import tempfile

    backbone = backbones.get(backbone) if isinstance(backbone, str) else backbone
    rows = backbone.fixed_weights_size or backbone.weights_rows(image_size)
    filename = backbone.weights_filename(image_size)
    expected = (f"{backbone.name} without its top (include_top=False) at {rows}×{rows} px, "
                f"as Keras saves it in `{filename}`")
    keras_target = keras_models_dir() / filename
    keras_target.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=keras_target.parent, prefix=".upload-"))
    target = keras_target
    try:
        legacy = workdir / "upload.h5"  # the format keras.applications reads from its cache
        with open(legacy, "wb") as out:  # a file object (the page's upload) is streamed, never copied whole
            copied = copy_in_chunks(data, out)
        if not copied:
            raise WeightsFileRejected(f"The file is empty. Expected ImageNet weights for {expected}.")
        problem = _convert_if_keras3_format(backbone, rows, legacy)
        try:
            backbone.build_base(rows, weights=str(legacy))
        except Exception as error:  # noqa: BLE001 - h5py, Keras and TF raise many kinds; all mean "does not fit"
            raise WeightsFileRejected(
                f"This file does not fit {backbone.name}: expected ImageNet weights for {expected}. "
                f"({problem or _first_line(error)})") from None
        source = download_source(filename) or {}
        if source.get("file_hash") and _file_hash(legacy, source["file_hash"]) != source["file_hash"]:
            target = installed_path(backbone, image_size)  # Keras would delete it under its own name
            target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(legacy, target)
        if target == keras_target:
            installed_path(backbone, image_size).unlink(missing_ok=True)  # an older upload must not win over it
        _verify_as_training_loads(backbone, rows, image_size, target, expected)
        if owner:  # who replaced the weights every run trains from (beside the file; Keras reads only its own name)
            write_json_atomic(target.with_name(target.name + ".owner.json"), {"owner": owner, "installed_at": time.time()})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        import keras

        keras.backend.clear_session()
    return target


def _first_line(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def _file_hash(path: Path, published: str) -> str:
    """The file's hash in the algorithm Keras uses for `published` (sha256 for 64 hex digits, else md5)."""
    hasher = hashlib.sha256() if len(published) == 64 else hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            hasher.update(chunk)
    return hasher.hexdigest()


def _verify_as_training_loads(backbone: Backbone, rows: int, image_size: int, target: Path, expected: str) -> None:
    """Build the base with the `weights=` training will pass; on failure remove the installed file and refuse."""
    try:
        backbone.build_base(rows, weights=keras_weights(backbone, image_size))
        if not target.is_file():
            raise FileNotFoundError(f"Keras removed {target.name} while loading it")
    except Exception as error:  # noqa: BLE001
        target.unlink(missing_ok=True)
        raise WeightsFileRejected(
            f"The file fits {backbone.name}, but Keras would not load it from where it was installed "
            f"({_first_line(error)}); nothing was installed. Expected ImageNet weights for {expected}.") from None


def _convert_if_keras3_format(backbone: Backbone, rows: int, path: Path) -> str | None:
    """A Keras 3 `.weights.h5` file (from `model.save_weights`) is rewritten in place in the legacy layout Keras
    applications load. Returns why it could not be, or None (also when the file is not in that format)."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            keras3_layout = "layers" in handle and "layer_names" not in handle.attrs
    except OSError:
        return "not an HDF5 file"
    if not keras3_layout:
        return None
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group  # no public legacy writer

    base = backbone.build_base(rows, weights=None)
    keras3_copy = path.with_name("upload.weights.h5")
    os.replace(path, keras3_copy)
    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            base.load_weights(str(keras3_copy))
        skipped = [str(w.message) for w in caught if "freshly-initialized" in str(w.message)]
        if skipped:  # Keras only warns when parts of the file match nothing: half-loaded is not loaded
            raise ValueError(f"{len(skipped)} parts of the model found no weights in the file")
    except Exception as error:  # noqa: BLE001
        os.replace(keras3_copy, path)
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    with h5py.File(path, "w") as handle:
        save_weights_to_hdf5_group(handle, base)
    return None
