"""The portable export's preprocessing: for every mode a backbone can declare, the standard Keras layers that replace
`ImagePreprocess` compute what it computes (a missing mode once left "scale01" exports without their /255)."""

import numpy as np
import pytest

from tlcore.layers.preprocess import ImagePreprocess


@pytest.mark.parametrize("mode", ImagePreprocess.MODES)
def test_every_preprocess_mode_is_computed_alike_by_standard_layers(mode):
    import keras

    from tlcore.inference.portable import nonstandard_layer_classes, portable_model

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(ImagePreprocess(mode, name="preprocess")(inputs))
    model = keras.Model(inputs, outputs)
    pixels = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3)).astype("float32")

    portable = portable_model(model)
    assert nonstandard_layer_classes(portable) == []
    expected = model.predict(pixels, verbose=0)
    np.testing.assert_allclose(portable.predict(pixels, verbose=0), expected, rtol=1e-5, atol=1e-4)
    if mode != "none":
        assert not np.allclose(expected, pixels.mean(axis=(1, 2)), atol=1e-3)  # the mode did change the pixels
