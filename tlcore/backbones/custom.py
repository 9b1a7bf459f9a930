"""Your own model as a backbone (the lab workflow: train a CNN, then transfer it).

A `.keras` model (an earlier run's, or an upload, always loaded in Keras safe mode) is cut at a layer the user picks;
everything below it is saved as a base in its own folder under `$TLSTUDIO_HOME/backbones/<name>/`:

    backbone.json     name, where it was cut from, preprocessing, input size
    base.keras        the cut base with its trained weights (its weights are its own: no ImageNet file)
    layer_table.json  per-layer parameter counts, so the Train page counts without TensorFlow

`backbones.get("custom-<name>")` turns that folder into a `CustomBackbone`, a `Backbone` entry like the Keras ones.
A run's model holds its base as one layer (`image → preprocess → base → pool → head`, the base nested or wrapped in
`InferenceModeBase`): it is cut inside that base, and keeps the run's preprocessing. Any other model is cut as it is, and gets the preprocessing the user chooses.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tlcore.backbones import layer_tables
from tlcore.backbones.registry import Backbone, PublishedFigures
from tlcore.layers.loading import BadModelFile, load_model
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import studio_home
from tlcore.storage.uploads import copy_in_chunks, keep_upload

if TYPE_CHECKING:
    import keras

__all__ = [
    "PREFIX", "FAMILY", "FLEXIBLE_DEFAULT_SIZE", "RUN_BASE_LAYER", "RUN_PREPROCESS_LAYER", "custom_root",
    "CustomBackbone", "load_custom", "custom_names", "CutPoint", "cut_points", "suggested_preprocess",
    "inspect_model", "create_custom", "create_from_run", "save_model_upload", "delete_custom"
]

PREFIX = "custom-"
FAMILY = "Custom"
FLEXIBLE_DEFAULT_SIZE = 96  # a base that takes any input size: the size the Train page starts at
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # matched whole (fullmatch)
RUN_BASE_LAYER = "base"  # tlcore.modeling.model.BASE_LAYER_NAME (not imported: that module pulls in the registry's users)
RUN_PREPROCESS_LAYER = "preprocess"


def custom_root() -> Path:
    return studio_home() / "backbones"


@dataclass(frozen=True)
class CustomBackbone(Backbone):
    """A base cut from a user's model. Built from its saved file; `weights=None` gives the same layers freshly
    initialised (random weights), anything else its own trained weights."""

    folder: str = ""
    source: str = ""  # what it was cut from, for people
    cut_at: str = ""
    input_size: int | None = None  # None: takes any input size
    output_side: int | None = None  # the cut map's side at input_size (Flatten heads count from it)

    def feature_map_side(self, image_size: int) -> int | None:
        return self.output_side if image_size == self.input_size else None

    @property
    def saved_base(self) -> Path:
        return Path(self.folder) / "base.keras"

    @property
    def own_weights_file(self) -> Path | None:
        return self.saved_base

    @property
    def layer_table_file(self) -> Path | None:
        return Path(self.folder) / "layer_table.json"

    def build_base(self, image_size: int, weights: str | None) -> "keras.Model":
        import keras

        saved = load_model(self.saved_base)
        if weights is not None and image_size == self.input_size:
            return saved
        try:  # the same layers on a new input size (convolutions do not care), freshly initialised
            base = keras.models.clone_model(saved, input_tensors=keras.Input((image_size, image_size, 3)))
            if weights is not None:
                base.set_weights(saved.get_weights())
        except (ValueError, TypeError) as error:
            raise ValueError(f"{self.name} only works at {self.input_size}×{self.input_size} px (the size it was "
                             f"trained at): {str(error).splitlines()[0]}") from None
        return base

    def to_row(self) -> dict[str, Any]:
        return {**super().to_row(), "source": self.source}


def _from_folder(folder: Path) -> CustomBackbone | None:
    info = read_json(folder / "backbone.json")
    if not info or not (folder / "base.keras").is_file():
        return None
    size = info.get("input_size")
    return CustomBackbone(
        name=info["name"], family=FAMILY, module="", default_size=size or FLEXIBLE_DEFAULT_SIZE,
        min_size=min(size or 32, 32), preprocess=info["preprocess"], published=PublishedFigures(*(None,) * 7),
        weights_file="base.keras", block_pattern=r"^(block_?\d+|conv\d+)", folder=str(folder),
        source=info.get("source", ""), cut_at=info.get("cut_at", ""), input_size=size,
        output_side=info.get("output_side"))


def load_custom(name: str) -> CustomBackbone | None:
    """The custom backbone called `name` ("custom-…"), or None when there is none."""
    if not name.startswith(PREFIX) or not _NAME.fullmatch(name[len(PREFIX):]):
        return None
    return _from_folder(custom_root() / name[len(PREFIX):])


def custom_names() -> list[str]:
    if not custom_root().exists():
        return []
    folders = [f for f in custom_root().iterdir() if f.is_dir() and not f.name.startswith(".")]  # not uploads, half-saved
    return sorted(backbone.name for backbone in map(_from_folder, folders) if backbone)


# --- choosing where to cut -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CutPoint:
    name: str
    kind: str
    output_shape: tuple
    parameters: int  # in this layer and everything below it

    @property
    def label(self) -> str:
        shape = "×".join("?" if d is None else str(d) for d in self.output_shape[1:])
        return f"{self.name} ({self.kind}, {shape}, {self.parameters:,} parameters up to here)"


def _cut_graph(model: "keras.Model") -> tuple["keras.Model", str]:
    """The graph to cut in and the preprocessing its input needs: a run's base, or the model itself."""
    from tlcore.layers.inference_mode import inner_base

    layer_names = [layer.name for layer in model.layers]
    run_base = inner_base(model.get_layer(RUN_BASE_LAYER)) if RUN_BASE_LAYER in layer_names else None
    if run_base is not None:
        mode = getattr(model.get_layer(RUN_PREPROCESS_LAYER), "mode", "none") \
            if RUN_PREPROCESS_LAYER in layer_names else "none"
        return run_base, mode
    return model, "none"


def cut_points(model: "keras.Model") -> list[CutPoint]:
    """Layers a base can end at: those with an image-shaped (height × width × channels) output, in network order."""
    import numpy as np

    graph, _ = _cut_graph(model)
    points, total = [], 0
    for layer in graph.layers:
        total += int(sum(np.prod(w.shape) for w in layer.weights))
        shape = tuple(getattr(layer.output, "shape", ()) or ())
        if len(shape) == 4 and type(layer).__name__ != "InputLayer":
            points.append(CutPoint(layer.name, type(layer).__name__, shape, total))
    return points


def suggested_preprocess(model: "keras.Model") -> str:
    return _cut_graph(model)[1]


def inspect_model(model_path: str | Path) -> tuple[list[CutPoint], str]:
    """Where the model at `model_path` can be cut, and the preprocessing its base needs (for the page's form)."""
    model = load_model(model_path)
    return cut_points(model), suggested_preprocess(model)


def create_custom(name: str, model_path: str | Path, cut_at: str, source: str, preprocess: str | None = None,
                  owner: str = "") -> Backbone:
    """Save everything of the model at `model_path` below and including layer `cut_at` as backbone "custom-<name>".

    Written to a temporary folder and renamed into place, so a half-saved backbone never appears. Imports TF.
    """
    import keras

    from tlcore.layers.preprocess import ImagePreprocess

    if not _NAME.fullmatch(name or ""):
        raise ValueError(f"'{name}' is not a usable name: use 1–40 lower-case letters, digits, '-' or '_'.")
    if (custom_root() / name).exists():
        raise ValueError(f"A custom backbone '{PREFIX}{name}' already exists; choose another name.")
    model = load_model(model_path)
    graph, run_preprocess = _cut_graph(model)
    usable = {point.name: point for point in cut_points(model)}
    if cut_at not in usable:
        raise ValueError(f"Cannot cut at '{cut_at}': choose a layer with an image-shaped output "
                         f"({', '.join(list(usable)[-5:])}, …).")
    preprocess = preprocess or run_preprocess
    if preprocess not in ImagePreprocess.MODES:
        raise ValueError(f"Unknown preprocessing '{preprocess}'; expected one of {ImagePreprocess.MODES}.")
    if len(graph.inputs) != 1 or len(graph.inputs[0].shape) != 4:
        raise BadModelFile("A backbone takes one image input; this model's inputs are "
                           f"{[tuple(tensor.shape) for tensor in graph.inputs]}.")
    base = keras.Model(graph.inputs[0], graph.get_layer(cut_at).output, name=f"{name.replace('-', '_')}_base")
    for layer in base.layers:  # a run saves its base frozen; a base is frozen by set_freeze, not by its file
        layer.trainable = True  # (each layer: setting it on the new Model does not reach the layers it shares)
    height = base.input.shape[1]
    custom_root().mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=custom_root(), prefix=f".{name}-"))
    try:
        base.save(workdir / "base.keras")
        table = layer_tables.table_of(base, PREFIX + name)
        write_json_atomic(workdir / "layer_table.json", table.to_dict())
        write_json_atomic(workdir / "backbone.json", {
            "name": PREFIX + name, "source": source, "cut_at": cut_at, "preprocess": preprocess,
            "input_size": int(height) if height else None, "feature_dim": table.feature_dim,
            "output_side": int(base.output.shape[1]) if height and base.output.shape[1] else None,
            "layers": len(table.layers), "owner": owner})
        workdir.rename(custom_root() / name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    layer_tables.table_for.cache_clear()
    return load_custom(PREFIX + name)


def create_from_run(name: str, model_path: str | Path, source: str) -> Backbone:
    """A run's model as a backbone in one step, cut where the lab cuts: after its base's last convolution block
    (the last image-shaped layer of the base, before pooling and the head), with the run's preprocessing."""
    points = cut_points(load_model(model_path))
    if not points:
        raise BadModelFile("This model has no layer with an image-shaped output to cut after.")
    return create_custom(name, model_path, points[-1].name, source)


def save_model_upload(filename: str, data: bytes | IO[bytes], owner: str = "") -> Path:
    """Check an uploaded model by loading it in safe mode, then keep it as an upload: named by its content (two
    people's `model.keras` never replace each other) and with its owner, so the Storage page lists it and its owner
    may delete it. Returns its path. A file object (the page's upload) is streamed to disk in chunks, never copied
    whole in memory."""
    checking = custom_root() / ".uploads"
    checking.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=checking, prefix=".upload-", suffix=".keras")
    try:
        with open(handle, "wb") as out:
            copy_in_chunks(data, out)
        load_model(temp, shown_name=filename)
        with open(temp, "rb") as checked:
            return keep_upload(checked, "external-models", ".keras", what=f"the uploaded model {filename}",
                               owner=owner, shown_name=Path(filename).name)
    finally:
        Path(temp).unlink(missing_ok=True)


def delete_custom(name: str) -> None:
    backbone = load_custom(name)
    if backbone is None:
        raise KeyError(f"No custom backbone '{name}'.")
    shutil.rmtree(backbone.folder)

    layer_tables.table_for.cache_clear()
