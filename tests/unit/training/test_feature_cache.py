"""Fast frozen phase: the head trained on cached pooled features matches plain `model.fit` through the frozen base."""

import pytest

from tlcore.training import feature_cache
from tlcore.training.fit import prepare_split


def _fit(config, fast: bool, epochs: int = 2, set_weights=None):
    """Train the model of `config` one way or the other; `set_weights(model, root, split)` replaces loading them."""
    import keras

    from tlcore.datasets.pipeline import make_dataset
    from tlcore.modeling.model import build_model, compile_model

    root, split = prepare_split(config)
    keras.utils.set_random_seed(config.split.seed)
    model = build_model(config, len(split.class_names), load_weights=set_weights is None)
    if set_weights is not None:
        set_weights(model, root, split)
    compile_model(model, config.learning_rate, len(split.class_names))
    if fast:
        history = feature_cache.fit_head_on_cached_features(model, config, root, split, False, epochs=epochs, verbose=0)
    else:
        train = make_dataset(root, split.train, config.image_size, config.batch_size, False, shuffle=True,
                             seed=config.split.seed)
        val = make_dataset(root, split.val, config.image_size, config.batch_size, False)
        history = model.fit(train, validation_data=val, epochs=epochs, verbose=0)
    return model, history.history


def test_head_on_cached_features_gives_the_plain_paths_results_and_reuses_the_cache(
        tiny_dataset, make_config, studio_dirs, monkeypatch):
    # VGG16: with random weights (all there is offline) it has no BatchNorm to shrink its features to ~0, so the
    # head really learns from them, and both paths must agree on real features.
    config = make_config(tiny_dataset("tiny", classes=("0", "1", "7"), per_class=30), backbone="VGG16",
                         batch_size=16)
    assert feature_cache.applies(config)
    plain_model, plain = _fit(config, fast=False)
    fast_model, fast = _fit(config, fast=True)

    # Same data order, same seeds, same head weights at the start: the same curves up to float noise.
    assert fast["val_accuracy"] == pytest.approx(plain["val_accuracy"], abs=0.02)
    assert fast["loss"] == pytest.approx(plain["loss"], rel=1e-3)
    assert plain["loss"][-1] < plain["loss"][0]  # the head learned from the features
    # The full model holds the trained head: it predicts like the plain model.
    head_weights = fast_model.get_layer("head").get_weights()[0]
    assert head_weights == pytest.approx(plain_model.get_layer("head").get_weights()[0], abs=1e-3)

    cached = sorted(path.name for path in (studio_dirs.home / "cache" / "features").iterdir())
    assert len(cached) == 2 and cached[0].startswith("vgg16-32-train-") and "-val-" in cached[1]
    monkeypatch.setattr(feature_cache, "feature_extractor",
                        lambda model: pytest.fail("features were computed again instead of read from the cache"))
    root, split = prepare_split(config)
    key = feature_cache.feature_key(config, root, "train", split.train)
    features = list(feature_cache.cached_features(fast_model, None, key).as_numpy_iterator())
    assert len(features) == len(split.train) and features[0][0].shape == (512,)


def _statistics_from_images(model, root, split) -> None:
    """Pretrained-style weights set in code: every BatchNorm's moving statistics from 64 training images, instead
    of the mean 0 / variance 1 of a random base. (EfficientNet's ImageNet file is md5-checked, so no stand-in file.)"""
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.modeling.model import base_of, set_freeze

    base = base_of(model)
    batchnorm = [layer for layer in base.layers if type(layer).__name__ == "BatchNormalization"]
    for layer in batchnorm:  # a frozen BatchNorm would ignore training=True
        layer.trainable, layer.momentum = True, 0.0
    images, _ = load_arrays(root, split.train[:64], model.input_shape[1])
    base(model.get_layer("preprocess")(images), training=True)
    for layer in batchnorm:
        layer.momentum = 0.99
        assert float(layer.moving_variance.numpy().mean()) != 1.0, layer.name
    set_freeze(base, None)  # frozen again, as the config says


@pytest.mark.parametrize("backbone", ["MobileNetV2", "EfficientNetB0"])
def test_fast_path_equals_the_plain_path_for_pretrained_bases_with_batchnorm_and_dropout(
        backbone, tiny_dataset, make_config, request):
    # BatchNorm in both; 9 Dropout layers in EfficientNetB0. Plain fit runs the base in inference mode, so its
    # features are the cached ones. MobileNetV2 loads the stand-in "ImageNet" file; EfficientNetB0 gets its
    # statistics in code.
    config = make_config(tiny_dataset("tiny", classes=("0", "1", "7"), per_class=30), backbone=backbone,
                         batch_size=16, weights="imagenet")
    set_weights = _statistics_from_images if backbone == "EfficientNetB0" else None
    if set_weights is None:
        request.getfixturevalue("standin_imagenet")
    assert feature_cache.applies(config)
    plain_model, plain = _fit(config, fast=False, set_weights=set_weights)
    fast_model, fast = _fit(config, fast=True, set_weights=set_weights)

    assert fast["val_accuracy"] == pytest.approx(plain["val_accuracy"], abs=0.02)
    assert fast["loss"] == pytest.approx(plain["loss"], rel=1e-3)
    assert plain["loss"][-1] < plain["loss"][0]
    assert fast_model.get_layer("head").get_weights()[0] == pytest.approx(
        plain_model.get_layer("head").get_weights()[0], abs=1e-3)


def test_cache_key_changes_with_what_changes_the_features(tiny_dataset, make_config):
    config = make_config(tiny_dataset())
    root, split = prepare_split(config)
    key = feature_cache.feature_key(config, root, "train", split.train)

    assert key == feature_cache.feature_key(config, root, "train", split.train)
    for changed in (make_config(config.dataset, image_size=48), make_config(config.dataset, backbone="MobileNet"),
                    make_config(config.dataset, weights="imagenet")):
        assert feature_cache.feature_key(changed, root, "train", split.train) != key
    assert feature_cache.feature_key(config, root, "val", split.train) != key
    assert feature_cache.feature_key(config, root, "train", split.train[1:]) != key
    (root / split.train[0][0]).write_bytes((root / split.train[1][0]).read_bytes() + b"\0")  # an image changed
    assert feature_cache.feature_key(config, root, "train", split.train) != key


def test_fast_path_only_when_the_base_cannot_change(make_config):
    assert feature_cache.applies(make_config("d"))
    assert feature_cache.applies(make_config("d", backbone="EfficientNetB0", weights="imagenet"))
    # A random base runs as the model does: its Dropout layers would drop features in plain training.
    assert not feature_cache.applies(make_config("d", backbone="EfficientNetB0", weights="random"))
    assert not feature_cache.applies(make_config("d", fine_tune_at=100))
    assert not feature_cache.applies(make_config("d", augment=True))  # by default every epoch augments: exact
    assert feature_cache.applies(make_config("d", augment=True, augmented_views=3))  # K views, chosen
    assert not feature_cache.applies(make_config("d", parent_run="x", fine_tune_at=None))


def test_augmented_views_are_computed_once_with_the_models_own_layers_and_each_epoch_draws_one(
        tiny_dataset, make_config, studio_dirs):
    import keras
    import numpy as np

    from tlcore.config.augmentation import AugmentConfig
    from tlcore.datasets.pipeline import make_dataset
    from tlcore.modeling.model import build_model, compile_model

    config = make_config(tiny_dataset("views", per_class=12), backbone="VGG16", augment=True, augmented_views=3,
                         augmentation=AugmentConfig(flip="horizontal", rotation=0.1, zoom=0.1), batch_size=8)
    root, split = prepare_split(config)
    keras.utils.set_random_seed(0)
    model = build_model(config, 2)
    compile_model(model, config.learning_rate, 2)
    reports = []
    history = feature_cache.fit_head_on_cached_features(model, config, root, split, True, epochs=2, verbose=0,
                                                        report=lambda f, m: reports.append((f, m)))
    assert len(history.history["loss"]) == 2

    train_key = feature_cache.feature_key(config, root, "train", split.train)
    plain_key = feature_cache.feature_key(make_config(config.dataset, backbone="VGG16"), root, "train", split.train)
    assert train_key != plain_key  # augmented features never stand in for plain ones, nor the reverse
    stacks = list(feature_cache.cached_features(model, None, train_key).as_numpy_iterator())
    assert len(stacks) == len(split.train) and stacks[0][0].shape == (3, 512)
    assert all(not np.allclose(stack[0], stack[1]) for stack, _ in stacks[:4])  # the views differ: augmented
    images = make_dataset(root, split.val, 32, 8, True).map(lambda x, y: x)
    plain_val = feature_cache.feature_extractor(model).predict(images, verbose=0)
    val_key = feature_cache.feature_key(config, root, "val", split.val)
    val = np.stack([f for f, _ in feature_cache.cached_features(model, None, val_key).as_numpy_iterator()])
    assert np.allclose(val, plain_val, atol=1e-4)  # validation is never augmented

    drawn = feature_cache.draw_views(feature_cache.cached_features(model, None, train_key), 3, seed=1)
    first, second = ([f for f, _ in drawn.as_numpy_iterator()] for _ in range(2))
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))  # another view next epoch
    assert all(any(np.array_equal(a, row) for row in stack) for a, (stack, _) in zip(first, stacks))
    assert reports[-1][0] == 1.0 and "augmented views" in reports[0][1]
