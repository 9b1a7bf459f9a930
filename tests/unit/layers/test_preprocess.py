"""tlcore.layers.preprocess.ImagePreprocess: the same maths as keras.applications' preprocess_input, and safe-mode loadable."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def keras():
    import keras  # TensorFlow: imported by the tests that need it, not at collection

    return keras


@pytest.fixture(scope="module")
def ImagePreprocess(keras):  # noqa: N802 - the class under test
    from tlcore.layers.preprocess import ImagePreprocess

    return ImagePreprocess


@pytest.fixture
def pixels():
    return np.random.default_rng(3).uniform(0, 255, (4, 9, 7, 3)).astype("float32")


@pytest.mark.parametrize("mode, module", [
    ("tf", "mobilenet_v2"), ("tf", "xception"), ("caffe", "vgg16"), ("caffe", "resnet50"), ("torch", "densenet"),
])
def test_layer_equals_keras_preprocess_input(keras, ImagePreprocess, pixels, mode, module):
    preprocess_input = getattr(keras.applications, module).preprocess_input
    expected = preprocess_input(pixels.copy())  # keras scales numpy input in place

    got = keras.ops.convert_to_numpy(ImagePreprocess(mode)(pixels))

    assert got.shape == pixels.shape
    assert np.allclose(got, expected, atol=1e-4)


@pytest.mark.parametrize("mode, expected_first_pixel", [
    ("tf", [-1.0, 0.0, 1.0]),  # [-1, 1]
    ("caffe", [255 - 103.939, 127.5 - 116.779, 0 - 123.68]),  # RGB → BGR, minus the ImageNet mean
    ("torch", [(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225]),  # ImageNet mean / std
    ("none", [0.0, 127.5, 255.0]),  # the backbone scales inside itself
])
def test_each_mode_on_a_known_pixel(keras, ImagePreprocess, mode, expected_first_pixel):
    pixel = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")

    got = keras.ops.convert_to_numpy(ImagePreprocess(mode)(pixel))

    assert np.allclose(got[0, 0, 0], expected_first_pixel, atol=1e-4)


def test_uint8_input_is_accepted(keras, ImagePreprocess):
    got = keras.ops.convert_to_numpy(ImagePreprocess("tf")(np.full((1, 2, 2, 3), 255, dtype="uint8")))

    assert got.dtype == np.float32 and np.allclose(got, 1.0)


def test_unknown_mode_is_refused_by_name(ImagePreprocess):
    with pytest.raises(ValueError, match=r"Unknown preprocessing mode 'bgr'; expected one of \('tf', 'caffe', 'torch', "
                                         r"'scale01', 'none'\)"):
        ImagePreprocess("bgr")


@pytest.mark.parametrize("mode", ["caffe", "torch"])
def test_model_with_the_layer_saves_and_reloads_in_safe_mode(keras, ImagePreprocess, tmp_path, pixels, mode):
    from tlcore.layers.loading import load_model

    inputs = keras.Input((9, 7, 3))
    x = ImagePreprocess(mode, name="preprocess")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "model.keras")

    loaded = load_model(tmp_path / "model.keras")

    assert isinstance(loaded.get_layer("preprocess"), ImagePreprocess)
    assert loaded.get_layer("preprocess").mode == mode
    assert np.allclose(loaded.predict(pixels, verbose=0), model.predict(pixels, verbose=0), atol=1e-6)


def test_a_lambda_layer_would_not_load_in_safe_mode(keras, tmp_path):
    # Why ImagePreprocess exists: the obvious Lambda is refused by the same loader.
    from tlcore.layers.loading import load_model

    inputs = keras.Input((2, 2, 3))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x / 127.5 - 1.0)(inputs))
    model.save(tmp_path / "lambda.keras")

    with pytest.raises(ValueError, match="refused by Keras safe mode"):
        load_model(tmp_path / "lambda.keras")
