"""Head and training options in tlcore.modeling.model: the live counts equal Keras for every head, outputs stay probabilities,
the loss carries label smoothing, and each optimizer is the one asked for."""

import pytest

from tlcore.backbones.feature_maps import feature_map_side
from tlcore.config.training import TrainConfig
from tlcore.modeling.model import config_param_counts, count_params, head_param_count


def _config(backbone="MobileNetV2", image_size=32, **changes) -> TrainConfig:
    values = dict(dataset="unused", backbone=backbone, image_size=image_size, weights="random")
    return TrainConfig(**{**values, **changes})


def test_head_counts_by_hand():
    # MobileNetV2: 1280 features. avg/max pooling → 1280 inputs; flatten at 64 px → 2×2×1280.
    assert head_param_count("MobileNetV2", 2, "avg") == 1280 + 1
    assert head_param_count("MobileNetV2", 10, "max", hidden_units=64) == (1280 * 64 + 64) + (64 * 10 + 10)
    assert head_param_count("MobileNetV2", 3, "flatten", image_size=64) == 4 * 1280 * 3 + 3
    assert count_params("MobileNetV2", 2, None) == count_params("MobileNetV2", 2, None, pooling="max")


def test_flatten_needs_the_image_size():
    with pytest.raises(ValueError, match="image size"):
        head_param_count("VGG16", 2, "flatten")


@pytest.mark.parametrize("backbone, sizes", [("VGG16", (32, 75, 100)), ("InceptionV3", (75, 139, 299))])
def test_feature_map_side_equals_keras(backbone, sizes):
    from tlcore.backbones import catalog as backbones

    entry = backbones.get(backbone)
    base = entry.constructor()(include_top=False, weights=None, input_shape=(None, None, 3))

    for size in sizes:
        assert feature_map_side(backbone, size) == base.compute_output_shape((1, size, size, 3))[1], size


HEADS = [  # (backbone, image size, classes, changes)
    ("MobileNetV2", 64, 10, dict(pooling="max", hidden_units=32, fine_tune_at=100)),
    ("MobileNetV2", 64, 3, dict(pooling="flatten", hidden_units=0, fine_tune_at=140, label_smoothing=0.1)),
    ("MobileNetV2", 96, 2, dict(pooling="flatten", hidden_units=16, fine_tune_at=0, weights="imagenet")),
    ("VGG16", 75, 4, dict(pooling="flatten", hidden_units=8, fine_tune_at=11)),
]


@pytest.mark.parametrize("backbone, size, classes, changes", HEADS)
def test_live_counts_equal_the_built_model_for_every_head(backbone, size, classes, changes):
    from tlcore.modeling.model import build_model, keras_param_counts

    config = _config(backbone, size, **changes)
    model = build_model(config, classes, load_weights=False)

    assert keras_param_counts(model) == config_param_counts(config, classes)


def test_head_layers_read_top_to_bottom_and_output_probabilities():
    from tlcore.modeling.model import build_model

    model = build_model(_config(pooling="max", hidden_units=16, dropout=0.3), 2, load_weights=False)

    assert [layer.name for layer in model.layers][-4:] == ["pool", "hidden", "dropout", "head"]
    assert type(model.get_layer("pool")).__name__ == "GlobalMaxPooling2D"
    assert model.get_layer("hidden").get_config()["activation"] == "relu"
    assert model.output_shape == (None, 1) and model.get_layer("head").get_config()["activation"] == "sigmoid"
    multi = build_model(_config(pooling="flatten"), 5, load_weights=False)
    assert multi.output_shape == (None, 5) and multi.get_layer("head").get_config()["activation"] == "softmax"


@pytest.mark.parametrize("classes, smoothing, loss", [
    (2, 0.1, "BinaryCrossentropy"), (3, 0.1, "CategoricalCrossentropy"), (3, 0.0, "SparseCategoricalCrossentropy"),
])
def test_label_smoothing_goes_into_the_loss(classes, smoothing, loss):
    from tlcore.modeling.model import make_loss, uses_one_hot_labels

    made = make_loss(_config(label_smoothing=smoothing), classes)

    assert type(made).__name__ == loss
    assert made.get_config().get("label_smoothing", 0.0) == smoothing
    assert uses_one_hot_labels(_config(label_smoothing=smoothing), classes) == (loss == "CategoricalCrossentropy")


@pytest.mark.parametrize("name, cls, extra", [
    ("adam", "Adam", {}), ("adamw", "AdamW", {"weight_decay": 1e-4}), ("sgd", "SGD", {"momentum": 0.9}),
    ("rmsprop", "RMSprop", {}),
])
def test_each_optimizer_is_the_one_asked_for(name, cls, extra):
    from tlcore.modeling.model import make_optimizer

    optimizer = make_optimizer(_config(optimizer=name), 0.01)

    assert type(optimizer).__name__ == cls
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    assert {key: pytest.approx(optimizer.get_config()[key]) for key in extra} == extra
