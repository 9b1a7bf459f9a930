"""The model an export serves: the run's trained layers without augmentation, called in inference mode.

A run trained with augmentation keeps its random layers inside the model, where `training=False` switches them off.
Serving paths that call the model without that flag run them: Keras 3 image augmentation layers default to
`training=True`, so `model.export()`'s endpoint served random flips and rotations (47–75 % top-1 agreement with the
app) and TFLite conversion of that SavedModel failed on the stateless random ops. The serving model has no
augmentation left to run, and its SavedModel endpoint still passes `training=False` (Dropout, BatchNorm, and any
layer that wraps the base keep inference mode however the graph is called).

The op listings below (`saved_model_op_types`, `tflite_op_types`, `layer_types`) let each export prove it is clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from tlcore.inference.predictor import classifier_head

if TYPE_CHECKING:
    import keras

__all__ = [
    "AUGMENTATION_BLOCK_NAME", "AUGMENTATION_OP_MARKERS", "SERVING_ENDPOINT", "SERVING_INPUT_NAME",
    "is_augmentation_layer", "augmentation_layer_names", "serving_model", "export_saved_model", "layer_types",
    "saved_model_op_types", "tflite_op_types", "augmentation_ops",
]

AUGMENTATION_BLOCK_NAME = "augmentation"  # the keras.Sequential tlcore.datasets.augmentation_layers returns
SERVING_ENDPOINT = "serve"  # also exported as the SavedModel's serving_default signature
SERVING_INPUT_NAME = "image"

# Keras 3 layers that transform images at random in training: every class whose name starts with "Random", and these.
# Names, not classes, so the check also works on the layer classes listed from a reloaded file.
_RANDOM_LAYER_CLASSES = frozenset({
    "AugMix", "CutMix", "MixUp", "RandAugment", "Solarization",
})
# Deterministic layers that belong to the augmentation block only: Resizing scales a random crop back to the input.
_AUGMENTATION_HELPER_CLASSES = frozenset({"Resizing"})

# Substrings (lower case) of TensorFlow op and TFLite operator names that draw random numbers or warp images as the
# augmentation layers do: StatelessRandomUniformV2, StatelessRandomGetKeyCounter, ImageProjectiveTransformV3, ...
AUGMENTATION_OP_MARKERS = ("random", "imageprojectivetransform", "rngbitgenerator", "rngreadandskip", "multinomial",
                           "truncatednormal", "statelessshuffle", "cropandresize")


def _is_random_class(name: str) -> bool:
    return name.startswith("Random") or name in _RANDOM_LAYER_CLASSES


def _is_random_layer(layer: "keras.layers.Layer") -> bool:
    return _is_random_class(type(layer).__name__)


def is_augmentation_layer(layer: "keras.layers.Layer") -> bool:
    """A random image layer, or a block of them: the `augmentation` Sequential, or any Sequential holding only
    random layers (and the Resizing that follows a random crop)."""
    import keras

    if _is_random_layer(layer):
        return True
    if not isinstance(layer, keras.Sequential):
        return False
    inner = [sub for sub in layer.layers if not isinstance(sub, keras.layers.InputLayer)]
    if layer.name == AUGMENTATION_BLOCK_NAME:
        return True
    return bool(inner) and all(_is_random_layer(sub) or type(sub).__name__ in _AUGMENTATION_HELPER_CLASSES
                               for sub in inner)


def _nested_layers(model: "keras.Model") -> list["keras.layers.Layer"]:
    # Keras's own walk over tracked sub-layers: unlike the public `Model.layers` it also enters custom layers that
    # hold a model as an attribute (a wrapper that calls the base with training=False).
    return list(model._flatten_layers(include_self=False, recursive=True))


def augmentation_layer_names(model: "keras.Model") -> list[str]:
    """Random image layers anywhere inside `model`, nested models and wrapper layers included."""
    return [layer.name for layer in _nested_layers(model) if _is_random_layer(layer)]


def serving_model(model: "keras.Model", temperature: float = 1.0) -> "keras.Model":
    """A functional copy of `model` without its augmentation, sharing the trained layers (no weights are copied).

    The copy replays `model`'s graph (`keras.models.clone_model` with every layer reused): augmentation layers become
    the identity, as they are at inference; every other layer is called with the arguments it had, so
    `base(x, training=False)` and a custom layer wrapping the base behave as in the app. With a `temperature` other
    than 1 (the run's, tlcore.inference.calibrated), the classifier becomes its logits (a Dense copy named like it),
    `temperature` (Rescaling by 1 / T) and its softmax or sigmoid: standard layers every format converts, giving the
    calibrated probabilities the app shows.

    Raises:
        TypeError: `model` is not a functional model (TL Studio builds only functional models).
        ValueError: a random layer is nested where the graph cannot reach it (inside a custom layer).
    """
    import keras

    if isinstance(model, keras.Sequential) or not hasattr(model, "_nodes_by_depth"):
        raise TypeError(f"Cannot make a serving model of '{model.name}': it is not a functional Keras model.")
    head = classifier_head(model) if temperature != 1.0 else None
    if temperature != 1.0 and head is None:
        raise ValueError(f"'{model.name}' has no softmax or single-sigmoid classifier to apply a temperature to.")

    def call(layer, *args, **kwargs):
        return _tempered_head(head, temperature, args[0]) if layer is head else _call_in_serving_model(
            layer, *args, **kwargs)

    serving = keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)
    serving.name = model.name
    left = augmentation_layer_names(serving)
    if left:
        raise ValueError(f"Augmentation layers are nested inside other layers of '{model.name}' and cannot be left "
                         f"out of the export: {', '.join(left)}.")
    return serving


def _tempered_head(head: "keras.layers.Dense", temperature: float, features):
    """activation(logits / T) in standard layers; the Dense copy holds the head's trained weights."""
    import keras

    logits_layer = keras.layers.Dense(head.units, use_bias=head.use_bias, dtype=head.dtype_policy, name=head.name)
    logits = logits_layer(features)
    logits_layer.set_weights(head.get_weights())
    scaled = keras.layers.Rescaling(1.0 / temperature, dtype=head.dtype_policy, name="temperature")(logits)
    return keras.layers.Activation(head.activation.__name__, dtype=head.dtype_policy, name="probabilities")(scaled)


def _call_in_serving_model(layer: "keras.layers.Layer", *args, **kwargs):
    if is_augmentation_layer(layer):
        return args[0]
    return layer(*args, **kwargs)


def export_saved_model(model: "keras.Model", path: Path) -> Path:
    """A SavedModel whose one endpoint, `serve` (and `serving_default`), runs `model(image, training=False)`.

    `model.export()` would serve `model(image)`, which leaves the training flag to each layer's default.
    """
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name=SERVING_ENDPOINT,
        fn=lambda images: model(images, training=False),
        input_signature=[tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=SERVING_INPUT_NAME)],
    )
    archive.write_out(str(path), verbose=False)
    return path


# --- what an exported file contains --------------------------------------------------------------------------------
def layer_types(model: "keras.Model") -> list[str]:
    """Class names of every layer inside a Keras model, nested ones included (sorted, each once)."""
    return sorted({type(layer).__name__ for layer in _nested_layers(model)})


def saved_model_op_types(path: Path, signature: str = "serving_default") -> list[str]:
    """TensorFlow op types of the graph behind a SavedModel signature, the functions it calls included."""
    import tensorflow as tf

    graph_def = tf.saved_model.load(str(path)).signatures[signature].graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    for function in graph_def.library.function:
        ops |= {node.op for node in function.node_def}
    return sorted(ops)


def tflite_op_types(interpreter) -> list[str]:
    """Operator names of a TFLite model (CONV_2D, SOFTMAX, ... or Flex ops), from its interpreter.

    `_get_ops_details` is the one listing both TensorFlow's and LiteRT's interpreters offer; it is not public API.
    """
    return sorted({detail["op_name"] for detail in interpreter._get_ops_details()})


def augmentation_ops(op_types: Iterable[str]) -> list[str]:
    """The op types (or layer classes) among `op_types` that augment: random draws, image warps, random layers."""
    return sorted(op for op in op_types
                  if _is_random_class(op) or any(marker in op.lower() for marker in AUGMENTATION_OP_MARKERS))
