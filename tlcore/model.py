"""Build the transfer-learning model step by step, as the Keras guide teaches, and count its parameters.

inputs (raw RGB 0..255) → [augmentation] → preprocessing → base (training=False) → pooling → dropout → dense head
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tlcore import backbones
from tlcore.config import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.layer_tables import LayerTable, layer_table
from tlcore.weights import WeightsUnavailable, imagenet_problem
from tlcore import weights as weights_module

if TYPE_CHECKING:
    import keras

BASE_LAYER_NAME = "base"
BATCHNORM_KINDS = frozenset({"BatchNormalization"})
SCRATCH_BATCHNORM_MOMENTUM = 0.9


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int
    non_trainable: int


def head_units(class_count: int) -> int:
    """Two classes get one sigmoid unit (binary, as in the TensorFlow tutorial); more get a softmax unit each."""
    return 1 if class_count == 2 else class_count


def count_params(backbone_name: str, class_count: int, fine_tune_at: int | None,
                 pretrained: bool = True) -> ParamCounts:
    """Parameter counts of the model `build_model` would make, from the layer table alone (no TensorFlow needed)."""
    table = layer_table(backbone_name)
    head = table.feature_dim * head_units(class_count) + head_units(class_count)
    frozen_upto = len(table.layers) if fine_tune_at is None else max(0, min(fine_tune_at, len(table.layers)))
    base_trainable = sum(layer.trainable for layer in table.layers[frozen_upto:]
                         if not (pretrained and layer.kind in BATCHNORM_KINDS))
    base_total = sum(layer.trainable + layer.non_trainable for layer in table.layers)
    trainable = base_trainable + head
    total = base_total + head
    return ParamCounts(total=total, trainable=trainable, non_trainable=total - trainable)


def resolve_weights(config: TrainConfig) -> str | None:
    """The `weights=` argument for Keras, refusing ImageNet weights that cannot be had rather than going random."""
    backbone = backbones.get(config.backbone)
    if config.weights == WEIGHTS_RANDOM:
        return None
    if config.weights == WEIGHTS_IMAGENET:
        problem = imagenet_problem(backbone, config.image_size)
        if problem:
            raise WeightsUnavailable(problem)
        return WEIGHTS_IMAGENET
    return config.weights  # a weights file path


def build_base(config: TrainConfig, load_weights: bool = True) -> "keras.Model":
    backbone = backbones.get(config.backbone)
    weights = resolve_weights(config) if load_weights else None
    try:
        base = backbone.build_base(config.image_size, weights)
    except Exception as error:  # Keras raises various errors when a download fails
        if weights != WEIGHTS_IMAGENET:
            raise
        weights_state = weights_module.status(backbone, config.image_size)
        if weights_state.cached:
            raise
        raise WeightsUnavailable(
            f"Could not download ImageNet weights for {backbone.name} ({type(error).__name__}: {error}). "
            f"Copy `{weights_state.filename}` into `{weights_state.path.parent}/`, or choose random initialisation."
        ) from error
    base.name = BASE_LAYER_NAME
    return base


def set_freeze(base: "keras.Model", fine_tune_at: int | None, pretrained: bool = True) -> None:
    """Freeze base layers [0, fine_tune_at); None freezes the whole base. Recompile afterwards.

    With pretrained weights, BatchNorm layers stay frozen wherever they are: in Keras 3 a frozen BatchNorm runs in
    inference mode, which keeps the ImageNet statistics. (Calling the base with `training=False` is not enough in
    Keras 3.15: `fit` overrides that flag for every layer of a functional model.) Trained from scratch there are no
    statistics to keep, so BatchNorm learns normally, with a faster-moving average suited to short runs.
    """
    base.trainable = fine_tune_at is not None
    for index, layer in enumerate(base.layers):
        if fine_tune_at is None or index < fine_tune_at:
            layer.trainable = False
        elif type(layer).__name__ in BATCHNORM_KINDS:
            layer.trainable = not pretrained
            if not pretrained:
                layer.momentum = SCRATCH_BATCHNORM_MOMENTUM
        else:  # explicitly: with TF, `base.trainable = True` on an already trainable base does not reach its layers
            layer.trainable = True


def is_pretrained(config: TrainConfig) -> bool:
    return config.weights != WEIGHTS_RANDOM


def build_model(config: TrainConfig, class_count: int, load_weights: bool = True) -> "keras.Model":
    """The whole model, freeze applied. `load_weights=False` builds the same architecture without fetching weights."""
    import keras

    from tlcore.layers import ImagePreprocess

    backbone = backbones.get(config.backbone)
    inputs = keras.Input(shape=(config.image_size, config.image_size, 3), name="image")
    x = config.augmentation.build(config.image_size)(inputs) if config.augment else inputs
    x = ImagePreprocess(backbone.preprocess, name="preprocess")(x)
    base = build_base(config, load_weights)
    set_freeze(base, config.fine_tune_at, is_pretrained(config))
    x = base(x, training=False)  # as the Keras guide writes it; set_freeze is what keeps BatchNorm in inference mode
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    units = head_units(class_count)
    outputs = keras.layers.Dense(units, activation="sigmoid" if units == 1 else "softmax", name="head")(x)
    return keras.Model(inputs, outputs, name=f"tlstudio_{backbone.name.lower()}")


def compile_model(model: "keras.Model", learning_rate: float, class_count: int) -> None:
    import keras

    loss = "binary_crossentropy" if head_units(class_count) == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])


def keras_param_counts(model: "keras.Model") -> ParamCounts:
    """What `model.summary()` reports."""
    import numpy as np

    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return ParamCounts(trainable + non_trainable, trainable, non_trainable)


def base_of(model: "keras.Model") -> "keras.Model":
    return model.get_layer(BASE_LAYER_NAME)


__all__ = ["ParamCounts", "LayerTable", "build_model", "compile_model", "count_params", "keras_param_counts",
           "set_freeze", "base_of", "head_units"]
