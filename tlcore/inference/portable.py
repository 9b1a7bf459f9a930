"""A serving model made of Keras's own layers only, so its `.keras` file loads in any Python with Keras.

A `.keras` file names each layer's class; TL Studio's layers are registered under package names
(`tlcore>ImagePreprocess`, `tlstudio>InferenceModeBase`), and `keras.models.load_model` in a Python without `tlcore`
fails on them, safe mode or not. Both are replaced here by standard layers that compute the same thing:

- `ImagePreprocess` → `Rescaling` ("tf": x / 127.5 − 1), `Rescaling` + `Normalization` ("torch": ImageNet mean and
  std), a fixed `Dense` on the channel axis ("caffe": RGB → BGR and the mean subtracted), nothing ("none");
- `InferenceModeBase` → the base model it wraps, called with `training=False` (a serving graph never trains).

The run's own `model.keras` keeps TL Studio's layers; only exports are made portable. A KerasHub backbone stays a
KerasHub layer (loading it needs keras_hub, said on the Predict page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["portable_model", "nonstandard_layer_classes"]

_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def portable_model(model: "keras.Model") -> "keras.Model":
    """A functional copy of `model` (sharing its trained layers) in which no TL Studio layer is left."""
    import keras

    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.layers.preprocess import ImagePreprocess

    def call(layer, *args, **kwargs):
        if isinstance(layer, ImagePreprocess):
            return _standard_preprocess(layer.mode, layer.name, args[0])
        if isinstance(layer, InferenceModeBase):
            return layer.base(args[0], training=False)
        return layer(*args, **kwargs)

    portable = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)
    portable.name = model.name
    _loadable_kerashub_layers(portable)
    return portable


def _loadable_kerashub_layers(model: "keras.Model") -> None:
    """keras_hub's ViT layers write config keys their constructors refuse, so a saved ViT would not load again.

    A run's model.keras was saved with those keys left out (`tlcore.backbones.kerashub`), but a model loaded from it
    has fresh layer instances that write them again: the export leaves them out the same way (measured: a ViT run's
    `.keras` export failed to load with "Unrecognized keyword arguments passed to ViTPatchingAndEmbedding").
    """
    from tlcore.backbones.kerashub import _loadable

    for layer in model._flatten_layers(include_self=False, recursive=True):
        _loadable(layer)


def _standard_preprocess(mode: str, name: str, images):
    """What `ImagePreprocess(mode)` computes, in layers every Keras (and every converter) knows."""
    import keras
    import numpy as np

    if mode == "tf":
        return keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=name)(images)
    if mode == "torch":
        scaled = keras.layers.Rescaling(1 / 255.0, name=f"{name}_scale")(images)
        return keras.layers.Normalization(mean=_IMAGENET_MEAN_RGB, variance=np.square(_IMAGENET_STD_RGB),
                                          name=name)(scaled)
    if mode == "caffe":
        # Output channel j = input channel 2 − j (RGB → BGR), minus the BGR mean: one fixed 3×3 matrix and a bias.
        swap = np.eye(3, dtype="float32")[::-1]
        layer = keras.layers.Dense(3, name=name, trainable=False)
        out = layer(images)
        layer.set_weights([swap, -np.asarray(_CAFFE_MEAN_BGR, dtype="float32")])
        return out
    if mode == "scale01":
        return keras.layers.Rescaling(1 / 255.0, name=name)(images)
    return images  # "none": the backbone takes raw pixels


def nonstandard_layer_classes(model: "keras.Model") -> list[str]:
    """Registered names of layers inside `model` that are not Keras's own (`tlcore>ImagePreprocess`, …)."""
    import keras

    found = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        name = keras.saving.get_registered_name(type(layer))
        module = type(layer).__module__
        if not module.startswith("keras."):
            found.add(name)
    return sorted(found)
