"""The pretrained base as one layer that always runs in inference mode, whatever `fit` asks of the model around it.

Keras's guide calls the base with `base(x, training=False)` so that BatchNorm keeps its ImageNet statistics. In Keras
3.15 that does not hold during `fit`: a functional model hands its own `training` flag to every layer it runs
(`keras/src/models/functional.py`, `operation_fn`), so the nested base trains in training mode anyway. Wrapped in this
layer, the base is a single node of the outer graph and is called here with `training=False` always: BatchNorm uses
and keeps its moving statistics, Dropout inside the base is off, and the weights of its unfrozen layers (BatchNorm's
gamma and beta included) still get gradients and train.
"""

from __future__ import annotations

import keras

__all__ = ["InferenceModeBase", "inner_base"]


@keras.saving.register_keras_serializable(package="tlstudio")
class InferenceModeBase(keras.layers.Layer):
    """Runs `base` (a built Keras model) with `training=False`, so only its trainable weights learn.

    Which of its layers train is set on `base` itself (`tlcore.modeling.model.set_freeze`); this layer adds no
    weights of its own. Saved with the model (the base's config inside its own), it loads in Keras safe mode once this
    module is imported, which `tlcore.layers.loading.load_model` does.
    """

    def __init__(self, base: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.base = base

    def build(self, input_shape):
        self.built = True  # the base is built already, with its weights

    def call(self, inputs, training=None):
        return self.base(inputs, training=False)  # `training` is ignored on purpose: that is the point of this layer

    def compute_output_shape(self, input_shape):
        return self.base.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "base": keras.saving.serialize_keras_object(self.base)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["base"] = keras.saving.deserialize_keras_object(config["base"])
        return cls(**config)


def inner_base(layer) -> keras.Model | None:
    """The base model a layer of a TL Studio model holds: the wrapped base, a nested model itself (a run saved
    before the wrapper, or trained from random weights), or None for any other layer."""
    if isinstance(layer, InferenceModeBase):
        return layer.base
    if isinstance(layer, keras.Model):
        return layer
    return None
