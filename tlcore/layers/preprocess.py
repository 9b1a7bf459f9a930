"""Keras layers TL Studio puts inside every model, so preprocessing travels with the model into every export."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["ImagePreprocess"]

_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="tlcore")
class ImagePreprocess(keras.layers.Layer):
    """Map raw 0..255 RGB pixels to what a backbone was trained on; same maths as `keras.applications.*.preprocess_input`.

    A serializable layer (not a Lambda) so saved models load in Keras safe mode.
    """

    MODES = ("tf", "caffe", "torch", "scale01", "none")  # scale01: x / 255, a lab CNN trained on Rescaling(1/255)

    def __init__(self, mode: str = "tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"Unknown preprocessing mode '{mode}'; expected one of {self.MODES}.")
        self.mode = mode

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            return (x / 255.0 - ops.array(_IMAGENET_MEAN_RGB)) / ops.array(_IMAGENET_STD_RGB)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.array(_CAFFE_MEAN_BGR)
        if self.mode == "scale01":
            return x / 255.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
