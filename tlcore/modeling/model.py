"""Build the transfer-learning model step by step, as the Keras guide teaches, and count its parameters.

inputs (raw RGB 0..255) → [augmentation] → preprocessing → base → pooling → [hidden dense] → dropout → classifier.
A pretrained base runs in inference mode (`tlcore.layers.inference_mode`), as the guide's `training=False` intends;
a base trained from random weights runs as the model does, so its BatchNorm learns. The classifier outputs
probabilities (one sigmoid unit for two classes, else softmax), which evaluation, prediction and export rely on; label
smoothing goes into the loss.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tlcore.backbones import catalog as backbones
from tlcore.backbones import weights as weights_module
from tlcore.backbones.catalog import layer_table
from tlcore.backbones.feature_maps import feature_map_side
from tlcore.backbones.weights import WeightsUnavailable, imagenet_problem
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.datasets.augmentation import augmentation_layers

if TYPE_CHECKING:
    import keras

__all__ = [
    "BASE_LAYER_NAME", "BATCHNORM_KINDS", "SCRATCH_BATCHNORM_MOMENTUM", "POOLING_FLATTEN", "ParamCounts",
    "head_units", "count_params", "config_param_counts", "pooled_feature_count", "head_param_count", "resolve_weights",
    "build_base", "set_freeze", "is_pretrained", "build_model", "base_in_inference_mode", "pool_features", "add_head",
    "uses_one_hot_labels", "make_loss", "make_optimizer", "compile_model", "keras_param_counts", "base_of",
    "runs_base_in_inference_mode",
]

_log = logging.getLogger(__name__)  # details for admins (server folders), never shown on a page

BASE_LAYER_NAME = "base"
BATCHNORM_KINDS = frozenset({"BatchNormalization"})
SCRATCH_BATCHNORM_MOMENTUM = 0.9
POOLING_FLATTEN = "flatten"


@dataclass(frozen=True)
class ParamCounts:
    total: int
    trainable: int
    non_trainable: int


def head_units(class_count: int) -> int:
    """Two classes get one sigmoid unit (binary, as in the TensorFlow tutorial); more get a softmax unit each."""
    return 1 if class_count == 2 else class_count


def count_params(backbone_name: str, class_count: int, fine_tune_at: int | None, *, pooling: str = "avg",
                 hidden_units: int = 0, image_size: int | None = None) -> ParamCounts:
    """Parameter counts of the model `build_model` would make, from the layer table alone (no TensorFlow needed).

    Every weight of an unfrozen layer trains, BatchNorm's gamma and beta included, with pretrained weights as from
    random ones (a pretrained base keeps its statistics by running in inference mode, not by freezing BatchNorm), so
    the counts are the TensorFlow tutorial's. Flatten pooling keeps the base's whole feature map, so its head depends
    on `image_size` (see feature_map_side).
    """
    table = layer_table(backbone_name)
    head = head_param_count(backbone_name, class_count, pooling, hidden_units, image_size)
    frozen_upto = len(table.layers) if fine_tune_at is None else max(0, min(fine_tune_at, len(table.layers)))
    base_trainable = sum(layer.trainable for layer in table.layers[frozen_upto:])
    base_total = sum(layer.trainable + layer.non_trainable for layer in table.layers)
    change = _params_change_at(backbone_name, image_size)
    if change is not None:  # a transformer's position table grows with the image (the table was measured at one size)
        layer_name, trainable_change, non_trainable_change = change
        base_total += trainable_change + non_trainable_change
        position = next(index for index, row in enumerate(table.layers) if row.name == layer_name)
        if position >= frozen_upto:
            base_trainable += trainable_change
    trainable = base_trainable + head
    total = base_total + head
    return ParamCounts(total=total, trainable=trainable, non_trainable=total - trainable)


def _params_change_at(backbone_name: str, image_size: int | None) -> tuple[str, int, int] | None:
    """What the backbone's weights at `image_size` add to its layer table's (KerasHub transformers only)."""
    backbone = backbones.get(backbone_name)
    changes_with_size = getattr(backbone, "params_change_at", None)
    return changes_with_size(image_size) if changes_with_size and image_size else None


def config_param_counts(config: TrainConfig, class_count: int) -> ParamCounts:
    """`count_params` for the model a TrainConfig describes: what `model.summary()` of that model reports."""
    return count_params(config.backbone, class_count, config.fine_tune_at, pooling=config.pooling,
                        hidden_units=config.hidden_units, image_size=config.image_size)


def pooled_feature_count(backbone_name: str, pooling: str, image_size: int | None) -> int:
    """Length of the feature vector the head receives."""
    channels = layer_table(backbone_name).feature_dim
    if pooling != POOLING_FLATTEN:
        return channels
    if image_size is None:
        raise ValueError("Flatten pooling needs the image size: its feature map grows with the input.")
    side = backbones.get(backbone_name).feature_map_side(image_size) or feature_map_side(backbone_name, image_size)
    return channels * side ** 2


def head_param_count(backbone_name: str, class_count: int, pooling: str = "avg", hidden_units: int = 0,
                     image_size: int | None = None) -> int:
    """Weights and biases of the optional hidden layer and the classifier (always trainable)."""
    width = pooled_feature_count(backbone_name, pooling, image_size)
    hidden = width * hidden_units + hidden_units if hidden_units else 0
    width = hidden_units or width
    return hidden + width * head_units(class_count) + head_units(class_count)


def resolve_weights(config: TrainConfig) -> str | None:
    """The `weights=` argument for Keras, refusing ImageNet weights that cannot be had rather than going random."""
    backbone = backbones.get(config.backbone)
    if config.weights == WEIGHTS_RANDOM:
        return None
    if not backbone.has_pretrained_weights:
        raise WeightsUnavailable(f"{backbone.name} trains from scratch: there are no pretrained weights for it. "
                                 "Choose random initialisation.")
    if config.weights == WEIGHTS_IMAGENET:
        problem = imagenet_problem(backbone, config.image_size)
        if problem:
            raise WeightsUnavailable(problem)
        return weights_module.keras_weights(backbone, config.image_size)  # "imagenet", or an installed upload's path
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
        _log.warning("ImageNet weights for %s missing: Keras looks for %s", backbone.name, weights_state.path)
        raise WeightsUnavailable(
            f"Could not download ImageNet weights for {backbone.name} ({type(error).__name__}: {error}). "
            f"Upload `{weights_state.filename}` on the Backbones page (Upload a weights file), or choose random "
            "initialisation."
        ) from error
    base.name = BASE_LAYER_NAME
    return base


def set_freeze(base: "keras.Model", fine_tune_at: int | None, pretrained: bool = True) -> None:
    """Freeze base layers [0, fine_tune_at); every layer from `fine_tune_at` on trains, BatchNorm included; None
    freezes the whole base. Recompile afterwards.

    A pretrained base keeps its BatchNorm statistics because it runs in inference mode (`build_model` wraps it in
    `InferenceModeBase`), not because BatchNorm is frozen, so its gamma and beta train like any other weight. Trained
    from random weights there are no statistics to keep: BatchNorm learns them, with a faster-moving average suited to
    short runs.
    """
    base.trainable = fine_tune_at is not None
    for index, layer in enumerate(base.layers):
        # each layer explicitly: with TF, `base.trainable = True` on an already trainable base does not reach them
        layer.trainable = fine_tune_at is not None and index >= fine_tune_at
        if layer.trainable and not pretrained and type(layer).__name__ in BATCHNORM_KINDS:
            layer.momentum = SCRATCH_BATCHNORM_MOMENTUM


def is_pretrained(config: TrainConfig) -> bool:
    return config.weights != WEIGHTS_RANDOM


def build_model(config: TrainConfig, class_count: int, load_weights: bool = True) -> "keras.Model":
    """The whole model, freeze applied. `load_weights=False` builds the same architecture without fetching weights."""
    import keras

    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.layers.preprocess import ImagePreprocess

    backbone = backbones.get(config.backbone)
    inputs = keras.Input(shape=(config.image_size, config.image_size, 3), name="image")
    x = augmentation_layers(config.augmentation, config.image_size)(inputs) if config.augment else inputs
    x = ImagePreprocess(backbone.preprocess, name="preprocess")(x)
    base = build_base(config, load_weights)
    set_freeze(base, config.fine_tune_at, is_pretrained(config))
    if is_pretrained(config):  # `base(x, training=False)` is what the guide writes, but `fit` would override it
        x = InferenceModeBase(base, name=BASE_LAYER_NAME)(x)
    else:  # from random weights the base trains as the model does: its BatchNorm learns its statistics
        x = base(x)
    outputs = add_head(pool_features(x, config.pooling), config, class_count)
    return keras.Model(inputs, outputs, name=f"tlstudio_{backbone.name.lower()}")


def runs_base_in_inference_mode(model: "keras.Model") -> bool:
    from tlcore.layers.inference_mode import InferenceModeBase

    return isinstance(model.get_layer(BASE_LAYER_NAME), InferenceModeBase)


def base_in_inference_mode(model: "keras.Model") -> "keras.Model":
    """`model` with its base run in inference mode, for fine-tuning a pretrained run.

    Runs saved before TL Studio wrapped the base nest it directly (and kept their BatchNorm layers frozen instead);
    such a model is rebuilt around the same layer objects, so it shares their weights and predicts the same. A model
    whose base is wrapped already is returned as it is.
    """
    import keras

    from tlcore.layers.inference_mode import InferenceModeBase

    if runs_base_in_inference_mode(model):
        return model
    base = base_of(model)
    input_layer, *layers = model.layers  # TL Studio's models are one path: image → … → base → … → head
    x = inputs = keras.Input(shape=model.input_shape[1:], name=input_layer.name)
    for layer in layers:
        x = InferenceModeBase(base, name=BASE_LAYER_NAME)(x) if layer is base else layer(x)
    return keras.Model(inputs, x, name=model.name)


_POOLING_LAYERS = {"avg": "GlobalAveragePooling2D", "max": "GlobalMaxPooling2D", POOLING_FLATTEN: "Flatten"}


def pool_features(feature_map, pooling: str):
    """The base's feature map → one vector per image."""
    import keras

    return getattr(keras.layers, _POOLING_LAYERS[pooling])(name="pool")(feature_map)


def add_head(features, config: TrainConfig, class_count: int):
    """Pooled features → [hidden ReLU dense] → dropout → classifier (float32, so mixed precision keeps it exact)."""
    import keras

    x = features
    if config.hidden_units:
        x = keras.layers.Dense(config.hidden_units, activation="relu", name="hidden")(x)
    x = keras.layers.Dropout(config.dropout, name="dropout")(x)
    units = head_units(class_count)
    return keras.layers.Dense(units, activation="sigmoid" if units == 1 else "softmax", dtype="float32",
                              name="head")(x)


def uses_one_hot_labels(config: TrainConfig, class_count: int) -> bool:
    """Keras's sparse categorical loss has no label smoothing, so smoothed multi-class runs train on one-hot labels."""
    return config.label_smoothing > 0 and head_units(class_count) > 1


def make_loss(config: TrainConfig, class_count: int):
    import keras

    if head_units(class_count) == 1:
        return keras.losses.BinaryCrossentropy(label_smoothing=config.label_smoothing)
    if uses_one_hot_labels(config, class_count):
        return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def make_optimizer(config: TrainConfig, learning_rate):
    """`learning_rate` is a float or a Keras schedule (see tlcore.training.fit.learning_rate_for)."""
    import keras

    optimizers = {
        "adam": lambda: keras.optimizers.Adam(learning_rate),
        "adamw": lambda: keras.optimizers.AdamW(learning_rate, weight_decay=config.weight_decay),
        "sgd": lambda: keras.optimizers.SGD(learning_rate, momentum=config.momentum),
        "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate),
    }
    return optimizers[config.optimizer]()


def compile_model(model: "keras.Model", learning_rate, class_count: int, config: TrainConfig | None = None,
                  jit_compile: bool | str = "auto") -> None:
    """Compile with the config's optimizer and loss (Adam and plain cross-entropy when no config is given)."""
    config = config or TrainConfig(dataset="")
    model.compile(optimizer=make_optimizer(config, learning_rate), loss=make_loss(config, class_count),
                  metrics=["accuracy"], jit_compile=jit_compile)


def keras_param_counts(model: "keras.Model") -> ParamCounts:
    """What `model.summary()` reports."""
    import numpy as np

    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return ParamCounts(trainable + non_trainable, trainable, non_trainable)


def base_of(model: "keras.Model") -> "keras.Model":
    """The base model inside a TL Studio model: the wrapped pretrained base, or the nested one (random weights, or a
    run saved before the base was wrapped)."""
    from tlcore.layers.inference_mode import inner_base

    return inner_base(model.get_layer(BASE_LAYER_NAME))
