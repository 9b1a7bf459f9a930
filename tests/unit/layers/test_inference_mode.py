"""InferenceModeBase: during `fit` a pretrained base keeps its BatchNorm statistics and its Dropout is off, while its
unfrozen weights (BatchNorm gamma and beta included) train; saved and loaded, it stays what it was."""

import numpy as np
import pytest

from tlcore.config.training import TrainConfig

SIZE = 32


def _config(backbone: str, weights: str, fine_tune_at, **extra) -> TrainConfig:
    return TrainConfig(dataset="unused", backbone=backbone, image_size=SIZE, weights=weights,
                       fine_tune_at=fine_tune_at, dropout=0.0, **extra)


def _digits(digits, count: int = 48):
    from tlcore.datasets.pipeline import load_arrays

    items = [(f"{label}/{path.name}", label) for label in range(3)
             for path in sorted((digits / str(label)).glob("*.png"))[:count // 3]]
    images, labels = load_arrays(digits, items, SIZE)
    return images.astype("float32"), labels


def _batchnorm(base):
    return [(index, layer) for index, layer in enumerate(base.layers)
            if type(layer).__name__ == "BatchNormalization"]


def _fit_mobilenet(weights: str, digits):
    """MobileNetV2 at 32 px, layers [100, …) unfrozen, one epoch of Adam at 1e-2; BatchNorm state before and after."""
    from tlcore.modeling.model import base_of, build_model, compile_model

    model = build_model(_config("MobileNetV2", weights, 100), 3)
    batchnorm = _batchnorm(base_of(model))
    before = {layer.name: [np.array(w) for w in (layer.moving_mean, layer.moving_variance, layer.gamma)]
              for _, layer in batchnorm}
    compile_model(model, 1e-2, 3)
    images, labels = _digits(digits)
    model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    after = {layer.name: [np.array(w) for w in (layer.moving_mean, layer.moving_variance, layer.gamma)]
             for _, layer in batchnorm}
    return model, batchnorm, before, after


def test_fit_keeps_the_pretrained_statistics_and_trains_unfrozen_gamma(standin_imagenet, digits):
    from tlcore.layers.inference_mode import InferenceModeBase

    model, batchnorm, before, after = _fit_mobilenet("imagenet", digits)

    assert isinstance(model.get_layer("base"), InferenceModeBase)
    assert len(batchnorm) == 52
    for index, layer in batchnorm:
        mean, variance, gamma = before[layer.name]
        assert np.array_equal(after[layer.name][0], mean) and np.array_equal(after[layer.name][1], variance), \
            f"{layer.name}: moving statistics changed during fit"
        assert not np.array_equal(mean, np.zeros_like(mean))  # the stand-in's own statistics, not Keras defaults
        changed = not np.array_equal(after[layer.name][2], gamma)
        assert changed == (index >= 100), f"{layer.name} (layer {index}): gamma changed={changed}"


def test_without_the_wrapper_fit_moves_the_statistics(digits):
    # What the wrapper is for: Keras 3.15 hands fit's training=True to the nested base (random weights are nested
    # as they are, so their BatchNorm learns). If this ever fails, Keras honours training=False again.
    _, batchnorm, before, after = _fit_mobilenet("random", digits)

    moved = [layer.name for index, layer in batchnorm
             if index >= 100 and not np.array_equal(after[layer.name][0], before[layer.name][0])]
    assert len(moved) == len([index for index, _ in batchnorm if index >= 100])


def test_dropout_in_the_base_is_off_during_fit():
    import keras

    from tlcore.modeling.model import base_of, build_model

    model = build_model(_config("EfficientNetB0", "imagenet", 0), 3, load_weights=False)
    base, wrapper = base_of(model), model.get_layer("base")
    images = np.random.default_rng(0).uniform(0, 255, (8, SIZE, SIZE, 3)).astype("float32")

    assert sum(type(layer).__name__ == "Dropout" for layer in base.layers) == 9
    assert not np.array_equal(np.asarray(base(images, training=True)), np.asarray(base(images, training=True)))
    asked_to_train = np.asarray(wrapper(images, training=True))
    assert np.array_equal(asked_to_train, np.asarray(wrapper(images, training=True)))
    assert np.allclose(asked_to_train, np.asarray(base(images, training=False)), atol=1e-6)
    # Inside fit itself: with a learning rate of 0, the loss fit reports is the loss of the model in inference mode.
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    labels = np.arange(8) % 3
    fitted = model.fit(images, labels, batch_size=8, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    assert fitted == pytest.approx(model.evaluate(images, labels, batch_size=8, verbose=0), rel=1e-5)


def test_a_saved_model_loads_with_its_wrapper_freeze_and_predictions(trained_run, studio_dirs, tmp_path):
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import base_of, keras_param_counts, set_freeze

    model = load_model(trained_run.model_path)
    set_freeze(base_of(model), 100)
    model.save(tmp_path / "unfrozen.keras")

    loaded = load_model(tmp_path / "unfrozen.keras")

    assert isinstance(loaded.get_layer("base"), InferenceModeBase)
    def trains(base):  # layers with weights: an InputLayer's flag means nothing and is not saved
        return [layer.trainable for layer in base.layers if layer.weights]

    assert trains(base_of(loaded)) == trains(base_of(model)) and sum(trains(base_of(model))) > 0
    assert keras_param_counts(loaded) == keras_param_counts(model)
    images, _ = load_arrays(studio_dirs.data_root / trained_run.config().dataset, trained_run.split().test, SIZE)
    expected = model.predict(images, verbose=0)
    assert expected.std(axis=0).min() > 0.1  # a model whose answers differ across images (see conftest)
    assert np.array_equal(loaded.predict(images, verbose=0), expected)
