"""The Small CNN family: its shape as a name and a config field, counts without TensorFlow that match Keras, and
training from scratch only. The lab's transfer (a run cut after its convolutions) is walked in tests/unit/test_labs.py;
a small CNN run that discriminates is tests/unit/modeling/test_notebook.py's."""

import pytest

from tlcore.backbones import catalog, layer_tables
from tlcore.backbones.weights import WeightsUnavailable
from tlcore.config import TrainConfig
from tlcore.config.small_cnn import SmallCNNConfig
from tlcore.modeling.model import build_model, count_params, keras_param_counts, resolve_weights

SHAPES = [SmallCNNConfig(), SmallCNNConfig(2, 8, 1, 3, "valid", "avg"), SmallCNNConfig(1, 4, 2, 5, "same", "none")]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.backbone_name())
def test_the_stated_layer_table_and_counts_are_keras_own(shape):
    backbone = catalog.get(shape.backbone_name())
    assert backbone.shape == shape and SmallCNNConfig.from_name(backbone.name) == shape

    base = backbone.build_base(32, None)
    assert layer_tables.table_for(backbone) == layer_tables.table_of(base, backbone.name)
    assert backbone.feature_map_side(32) == base.output.shape[1]
    config = TrainConfig(dataset="d", backbone=backbone.name, image_size=32, weights="random", fine_tune_at=0,
                         pooling="flatten", hidden_units=16, small_cnn=shape)
    assert keras_param_counts(build_model(config, 5)) == count_params(
        backbone.name, 5, 0, pooling="flatten", hidden_units=16, image_size=32)


def test_the_labs_default_shape_has_the_labs_parameter_count():
    # 3 × (5×5 conv) of 32, 64, 128 filters, 2×2 max pooling at 32 px → 4×4×128, Flatten, Dense 128, softmax 10
    counts = count_params("SmallCNN", 10, 0, pooling="flatten", hidden_units=128, image_size=32)
    assert (counts.total, counts.trainable, counts.non_trainable) == (522_186, 522_186, 0)
    assert count_params("SmallCNN", 10, None, pooling="flatten", hidden_units=128, image_size=32).trainable == 263_562


def test_a_config_with_a_shape_round_trips_and_old_configs_still_load():
    config = TrainConfig(dataset="d", backbone=SHAPES[1].backbone_name(), small_cnn=SHAPES[1], weights="random")
    assert TrainConfig.from_dict(config.to_dict()) == config
    old = {k: v for k, v in TrainConfig(dataset="d").to_dict().items() if k != "small_cnn"}
    assert TrainConfig.from_dict(old).small_cnn is None


def test_bad_shapes_and_imagenet_weights_are_refused_with_a_plain_message():
    with pytest.raises(ValueError, match="1 to 8 convolution blocks"):
        catalog.get("SmallCNN-b9-f32-g2-k5-same-max")
    with pytest.raises(WeightsUnavailable, match="trains from scratch"):
        resolve_weights(TrainConfig(dataset="d", backbone="SmallCNN", weights="imagenet"))
    deep = catalog.get("SmallCNN-b5-f8-g1-k5-valid-max")
    assert deep.smallest_image == 156 and deep.min_size == 8
    with pytest.raises(ValueError, match="needs images of at least 156 px"):
        count_params(deep.name, 3, 0, pooling="flatten", image_size=96)
    with pytest.raises(ValueError, match="needs images of at least 156 px"):
        deep.build_base(96, None)
    assert "SmallCNN" in catalog.all_names()
