"""tlcore.inference.serving: the serving model drops augmentation, keeps every trained layer, and refuses what it
cannot clean. Tiny untrained models (a few convolutions at 16 px), so these run in seconds; test_export.py checks the
same on trained models through every export format."""

import numpy as np
import pytest


def _tiny_model(augmentation, wrap_base: bool = False):
    """inputs → [augmentation] → preprocess → base (training=False) → pool → head, as tlcore builds it."""
    import keras

    from tlcore.layers.preprocess import ImagePreprocess

    class InferenceModeBase(keras.layers.Layer):
        def __init__(self, base, **kwargs):
            super().__init__(**kwargs)
            self.base = base

        def call(self, inputs):
            return self.base(inputs, training=False)

    base_input = keras.Input((16, 16, 3))
    y = keras.layers.Conv2D(4, 3, name="conv")(base_input)
    y = keras.layers.BatchNormalization(name="bn")(y)
    base = keras.Model(base_input, keras.layers.Dropout(0.5, name="base_dropout")(y), name="base")
    inputs = keras.Input((16, 16, 3), name="image")
    x = augmentation(inputs) if augmentation is not None else inputs
    x = ImagePreprocess("tf", name="preprocess")(x)
    x = InferenceModeBase(base, name="frozen_base")(x) if wrap_base else base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="head")(x))


def _images(count: int = 6) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (count, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("wrap_base", [False, True], ids=["base", "wrapped-base"])
def test_the_serving_model_is_the_model_at_inference_without_its_augmentation(wrap_base):
    from tlcore.config.augmentation import AugmentConfig
    from tlcore.datasets.augmentation import augmentation_layers
    from tlcore.inference.serving import augmentation_layer_names, serving_model

    every_layer = AugmentConfig("horizontal", 0.1, 0.1, 0.1, 0.1, 0.1, 0.2)
    model = _tiny_model(augmentation_layers(every_layer, 16), wrap_base)
    images = _images()

    serving = serving_model(model)

    assert "augmentation" in {layer.name for layer in model.layers}
    assert [layer.name for layer in serving.layers] == [layer.name for layer in model.layers
                                                       if layer.name != "augmentation"]
    assert all(layer is model.get_layer(layer.name) for layer in serving.layers[1:])  # shared, not copied
    assert len(augmentation_layer_names(model)) == 7 and augmentation_layer_names(serving) == []
    np.testing.assert_array_equal(np.asarray(serving(images)), np.asarray(model(images, training=False)))
    np.testing.assert_array_equal(np.asarray(serving(images, training=False)), np.asarray(serving(images)))
    # The model itself, called as model.export()'s endpoint calls it (no training flag), augments:
    assert not np.allclose(np.asarray(model(images)), np.asarray(model(images, training=False)))


def test_loose_random_layers_are_left_out_too():
    import keras

    from tlcore.inference.serving import serving_model

    flip_only = keras.layers.RandomFlip("horizontal", name="flip")
    model = _tiny_model(flip_only)

    assert "flip" not in {layer.name for layer in serving_model(model).layers}


def test_a_random_layer_hidden_inside_a_custom_layer_is_refused():
    import keras

    from tlcore.inference.serving import serving_model

    class NoisyPreprocess(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.flip = keras.layers.RandomFlip("horizontal", name="hidden_flip")

        def call(self, inputs):
            return self.flip(inputs)

    model = _tiny_model(NoisyPreprocess(name="noisy"))

    with pytest.raises(ValueError, match="nested inside other layers of .* cannot be left out of the export: "
                                         "hidden_flip"):
        serving_model(model)


def test_a_sequential_model_is_refused():
    import keras

    from tlcore.inference.serving import serving_model

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="plain")

    with pytest.raises(TypeError, match="'plain': it is not a functional Keras model"):
        serving_model(model)


def test_augmentation_ops_names_random_draws_and_image_warps():
    from tlcore.inference.serving import augmentation_ops

    # Op types a SavedModel of model.export() held for an augmented run (research log), and clean ones.
    listed = ["Conv2D", "StatelessRandomUniformV2", "StatelessRandomGetKeyCounter", "ImageProjectiveTransformV3",
              "ResizeBilinear", "Softmax", "RandomFlip", "MixUp", "RANDOM_UNIFORM", "FULLY_CONNECTED"]

    assert augmentation_ops(listed) == ["ImageProjectiveTransformV3", "MixUp", "RANDOM_UNIFORM", "RandomFlip",
                                        "StatelessRandomGetKeyCounter", "StatelessRandomUniformV2"]
