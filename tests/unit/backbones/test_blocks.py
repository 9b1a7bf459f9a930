"""Blocks come from the shipped layer tables: every layer in exactly one block, named as the backbone names its stages."""

import pytest

from tlcore.backbones import freeze_blocks as freeze
from tlcore.backbones import registry as backbones
from tlcore.backbones.catalog import layer_table
from tlcore.modeling.model import count_params


@pytest.mark.parametrize("backbone, stages", [
    ("MobileNetV2", ["stem"] + [f"block_{i}" for i in range(1, 17)] + ["top"]),
    ("VGG16", ["stem"] + [f"block{i}" for i in range(1, 6)]),
    ("ResNet50", ["stem", "conv1", "conv2", "conv3", "conv4", "conv5"]),
    ("EfficientNetB0", ["stem"] + [f"block{i}" for i in range(1, 8)] + ["top"]),
    ("MobileNetV3Small", ["stem", "expanded_conv"] + [f"expanded_conv_{i}" for i in range(1, 11)] + ["top"]),
    ("NASNetMobile", ["stem", "stem_1", "stem_2"] + [f"block_{i}" for i in range(4)] + ["reduce_4"]
     + [f"block_{i}" for i in range(5, 9)] + ["reduce_8"] + [f"block_{i}" for i in range(9, 13)] + ["top"]),
])
def test_blocks_are_the_backbones_own_stages_in_order(backbone, stages):
    assert [block.name for block in freeze.blocks(backbone)] == stages


@pytest.mark.parametrize("backbone", backbones.names())
def test_blocks_cover_every_layer_once_with_all_its_parameters(backbone):
    rows = layer_table(backbone).layers
    found = freeze.blocks(backbone)

    assert found[0].first_layer == 0 and found[-1].last_layer == len(rows) - 1
    assert all(a.last_layer + 1 == b.first_layer for a, b in zip(found, found[1:]))
    assert len({block.name for block in found}) == len(found)
    assert sum(block.total_params for block in found) == sum(r.trainable + r.non_trainable for r in rows)


@pytest.mark.parametrize("backbone", backbones.names())
def test_every_backbone_can_be_frozen_by_several_of_its_own_stages(backbone):
    stages = [block for block in freeze.blocks(backbone) if block.name not in (freeze.STEM, freeze.TOP)]
    assert len(stages) >= 4


def test_auto_numbered_layer_names_do_not_make_blocks():
    # NASNet's pattern `_(\d+)$` would otherwise read activation_335 as a stage
    assert not any(block.name.endswith("335") for block in freeze.blocks("NASNetMobile"))


def test_freezing_before_a_block_trains_exactly_that_block_and_the_ones_after():
    at = freeze.fine_tune_at_for_block("MobileNetV2", "block_13")
    trained = [b for b in freeze.blocks("MobileNetV2") if b.first_layer >= at]
    head = count_params("MobileNetV2", 5, None).trainable

    assert [b.name for b in trained] == ["block_13", "block_14", "block_15", "block_16", "top"]
    assert count_params("MobileNetV2", 5, at).trainable == head + sum(b.trainable_params for b in trained)


def test_block_of_layer_and_fine_tune_at_agree():
    for block in freeze.blocks("ResNet50"):
        assert freeze.block_of_layer("ResNet50", block.first_layer) == block.name
        assert freeze.block_of_layer("ResNet50", block.last_layer) == block.name
        assert freeze.fine_tune_at_for_block("ResNet50", block.name) == block.first_layer
    assert freeze.block_of_layer("VGG16", 4) == "block2"  # block2_conv1


def test_a_blocks_batchnorm_gamma_and_beta_train_when_it_is_unfrozen():
    # A pretrained base keeps its statistics by running in inference mode, not by freezing BatchNorm: only the
    # moving means and variances stay out of training.
    block = {b.name: b for b in freeze.blocks("MobileNetV2")}["block_5"]
    rows = layer_table("MobileNetV2").layers[block.first_layer:block.last_layer + 1]
    batchnorm = [row for row in rows if row.kind == "BatchNormalization"]

    assert len(batchnorm) == 3
    assert block.trainable_params == sum(row.trainable for row in rows)
    moving_statistics = sum(row.non_trainable for row in batchnorm)
    assert block.non_trainable_params == moving_statistics == sum(row.trainable for row in batchnorm)  # 2 per channel


def test_unknown_block_names_the_valid_ones():
    with pytest.raises(ValueError, match="block_1, block_2"):
        freeze.fine_tune_at_for_block("MobileNetV2", "block_99")
