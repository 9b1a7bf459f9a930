"""Predict with a trained run: the model is loaded once and called through a compiled function, not `predict`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from tlcore.inference.gradcam import Explainer
from tlcore.layers.loading import load_model
from tlcore.runs.folders import get_run
from tlcore.storage.images import BadImage, load_array

if TYPE_CHECKING:
    import keras

__all__ = ["compiled_call", "Prediction", "Predictor", "cached_predictor", "probabilities_2d"]


def compiled_call(model: "keras.Model") -> Callable[[np.ndarray], np.ndarray]:
    """`model(x, training=False)` traced once as a tf.function: a one-image call costs a fraction of `model.predict`."""
    import tensorflow as tf

    signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    call = tf.function(lambda x: model(x, training=False), input_signature=[signature], reduce_retracing=True)
    return lambda images: call(np.asarray(images, dtype=np.float32)).numpy()


@dataclass(frozen=True)
class Prediction:
    name: str
    top: list[tuple[str, float]]  # (class, probability), most likely first
    error: str | None = None


class Predictor:
    """A run's model with a compiled single-call path; one per run per server (the page caches it)."""

    def __init__(self, model_path: Path, class_names: list[str], image_size: int, model: "keras.Model | None" = None):
        self.model = load_model(model_path) if model is None else model
        self.class_names = class_names
        self.image_size = image_size
        self._call = compiled_call(self.model)
        self._explainer = None

    @classmethod
    def for_run(cls, run_id: str) -> "Predictor":

        run = get_run(run_id)
        if not run.model_path.exists():
            raise ValueError(f"Run {run_id} has no saved model yet (state: {run.state}).")
        return cls(run.model_path, run.class_names(), run.config().image_size)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for uint8 RGB images already at the model's size."""
        return probabilities_2d(self._call(images))

    def explain(self, image: np.ndarray, class_index: int | None = None):
        """Grad-CAM for one image at the model's size (tlcore.inference.gradcam), the explainer built on first use."""

        if self._explainer is None:
            self._explainer = Explainer(self.model)
        return self._explainer.explain(image, class_index)

    def predict_files(self, named_sources: list[tuple[str, bytes | Path]], top_k: int = 3) -> list[Prediction]:
        """Top-k per image; an unreadable image gets an error entry instead of stopping the batch."""
        # Keyed by position, not name: two uploads may share a name (photo.jpg from two folders).
        arrays, readable, results = [], [], {}
        for index, (name, source) in enumerate(named_sources):
            try:
                arrays.append(load_array(source, self.image_size))
                readable.append(index)
            except BadImage as error:
                results[index] = Prediction(name, [], f"{name} is not a usable image: {error}")
        if arrays:
            probabilities = self.probabilities(np.stack(arrays))
            k = min(top_k, len(self.class_names))
            for index, row in zip(readable, probabilities):
                order = np.argsort(row)[::-1][:k]
                results[index] = Prediction(named_sources[index][0],
                                            [(self.class_names[i], float(row[i])) for i in order])
        return [results[index] for index in range(len(named_sources))]


@lru_cache(maxsize=4)
def cached_predictor(run_id: str, model_mtime: float) -> Predictor:
    """Process-wide cache keyed by the model file's mtime, so a fine-tuned or re-saved model is reloaded."""
    return Predictor.for_run(run_id)


def probabilities_2d(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as (n, classes) probabilities: a single sigmoid unit becomes [1 - p, p]."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs
