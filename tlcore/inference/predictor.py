"""Predict with a trained run: the model is loaded once and called through a compiled function, not `predict`.

A run's predictor gives calibrated probabilities: its classifier's logits divided by the temperature its evaluation
fitted (tlcore.inference.calibrated), and "not sure" below the run's threshold. Both are read from the run folder
again whenever they change, so the Evaluate page's new threshold reaches an already loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from tlcore.inference.calibrated import NOT_SURE, Confidence, calibration_path, scaled_probabilities, stored_confidence
from tlcore.inference.gradcam import Explainer
from tlcore.layers.loading import load_model
from tlcore.runs.folders import Run, get_run
from tlcore.datasets.images import BadImage, load_array

if TYPE_CHECKING:
    import keras

__all__ = ["compiled_call", "classifier_head", "logits_call", "Prediction", "Predictor", "cached_predictor",
           "probabilities_2d"]


def compiled_call(model: "keras.Model") -> Callable[[np.ndarray], np.ndarray]:
    """`model(x, training=False)` traced once as a tf.function: a one-image call costs a fraction of `model.predict`."""
    import tensorflow as tf

    signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    call = tf.function(lambda x: model(x, training=False), input_signature=[signature], reduce_retracing=True)
    return lambda images: call(np.asarray(images, dtype=np.float32)).numpy()


def classifier_head(model: "keras.Model") -> "keras.layers.Dense | None":
    """The model's last layer when it is TL Studio's classifier (tlcore.modeling.model.add_head): a Dense layer with
    softmax, or with one sigmoid unit for two classes. None otherwise: several sigmoid units would be independent
    labels, which a temperature over one softmax would misread."""
    import keras

    head = model.layers[-1]
    activation = getattr(getattr(head, "activation", None), "__name__", "")
    if isinstance(head, keras.layers.Dense) and (activation == "softmax" or (activation == "sigmoid"
                                                                             and head.units == 1)):
        return head
    return None


def logits_call(model: "keras.Model") -> Callable[[np.ndarray], np.ndarray] | None:
    """The classifier's logits (its Dense layer before softmax or sigmoid), traced once like `compiled_call`.

    None when the model has no such classifier (one trained elsewhere): its outputs are then used as the
    probabilities they are. The layers are shared with `model`, nothing is copied.
    """
    import keras
    import tensorflow as tf

    head = classifier_head(model)
    if head is None:
        return None
    features = keras.Model(model.inputs, _head_input(model, head))

    def logits(x):
        z = keras.ops.matmul(features(x, training=False), head.kernel)
        return z if head.bias is None else keras.ops.add(z, head.bias)

    signature = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    call = tf.function(logits, input_signature=[signature], reduce_retracing=True)
    return lambda images: call(np.asarray(images, dtype=np.float32)).numpy()


def _head_input(model: "keras.Model", head) -> "keras.KerasTensor":
    """The tensor that enters the head in *this* model's graph. `head.input` is its first call's input, which for a
    fine-tuned run is the parent model's graph when the child reuses the parent's layers: a model cut there would
    hold both graphs (Keras: 'The name "image" is used 2 times')."""
    history = model.outputs[0]._keras_history  # (operation, node_index, tensor_index) of the model's output
    if history.operation is head:
        return head._inbound_nodes[history.node_index].input_tensors[0]
    return head.input


@dataclass(frozen=True)
class Prediction:
    name: str
    top: list[tuple[str, float]]  # (class, calibrated probability), most likely first
    error: str | None = None
    not_sure: bool = False  # the top probability is below the run's threshold

    @property
    def answer(self) -> str | None:
        """The class to show, "not sure" below the threshold, None for an unreadable image."""
        if not self.top:
            return None
        return NOT_SURE if self.not_sure else self.top[0][0]


class Predictor:
    """A run's model with a compiled single-call path; one per run per server (the page caches it).

    With `run`, probabilities are calibrated with the run's stored temperature and answers below its threshold are
    "not sure"; without, the model's own outputs are used as they are.
    """

    def __init__(self, model_path: Path, class_names: list[str], image_size: int, model: "keras.Model | None" = None,
                 run: Run | None = None):
        self.model = load_model(model_path) if model is None else model
        self.class_names = class_names
        self.image_size = image_size
        self.run = run
        self._logits = logits_call(self.model)
        self._call = compiled_call(self.model) if self._logits is None else None
        self._explainer = None
        self._confidence, self._confidence_stamp = Confidence(), None

    @classmethod
    def for_run(cls, run_id: str) -> "Predictor":

        run = get_run(run_id)
        if not run.model_path.exists():
            raise ValueError(f"Run {run_id} has no saved model yet (state: {run.state}).")
        return cls(run.model_path, run.class_names(), run.config().image_size, run=run)

    @property
    def confidence(self) -> Confidence:
        """The run's temperature and threshold, read again when eval/calibration.json changes (T = 1 without)."""
        if self.run is None or self._logits is None:
            return Confidence()
        path = calibration_path(self.run)
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if stamp != self._confidence_stamp:
            self._confidence, self._confidence_stamp = stored_confidence(self.run), stamp
        return self._confidence

    def logits(self, images: np.ndarray) -> np.ndarray:
        """(n, units) classifier logits for uint8 RGB images at the model's size (a model from elsewhere: ValueError)."""
        if self._logits is None:
            raise ValueError("This model's last layer is not a softmax or sigmoid Dense layer: it has no logits.")
        return self._logits(images)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for uint8 RGB images already at the model's size, calibrated for a run."""
        if self._logits is None:
            return probabilities_2d(self._call(images))
        return scaled_probabilities(self._logits(images), self.confidence.temperature)

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
            confidence = self.confidence
            k = min(top_k, len(self.class_names))
            for index, row in zip(readable, probabilities):
                order = np.argsort(row)[::-1][:k]
                results[index] = Prediction(named_sources[index][0],
                                            [(self.class_names[i], float(row[i])) for i in order],
                                            not_sure=not confidence.is_sure(float(row[order[0]])))
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
