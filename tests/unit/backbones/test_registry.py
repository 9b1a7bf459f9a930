"""tlcore.backbones.registry: the registry of Keras applications, with the Keras documentation's published figures."""

import pytest

from tlcore.backbones import catalog, registry
from tlcore.backbones.catalog import layer_table


def test_registry_holds_every_keras_application():
    names = registry.names()

    assert len(names) >= 40
    assert {"MobileNetV2", "ResNet50", "VGG16", "EfficientNetB0", "ConvNeXtTiny", "NASNetMobile"} <= set(names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name, size_mb, top1, top5, params_m, depth", [
    ("MobileNetV2", 14, 0.713, 0.901, 3.5, 105),
    ("VGG16", 528, 0.713, 0.901, 138.4, 16),
    ("ResNet50", 98, 0.749, 0.921, 25.6, 107),
    ("EfficientNetB0", 29, 0.771, 0.933, 5.3, 132),
    ("Xception", 88, 0.790, 0.945, 22.9, 81),
])
def test_published_figures_are_the_keras_documentation_ones(name, size_mb, top1, top5, params_m, depth):
    published = catalog.get(name).published

    assert (published.size_mb, published.top1, published.top5, published.parameters_m, published.depth) == \
        (size_mb, top1, top5, params_m, depth)


def test_figures_the_documentation_does_not_give_are_none():
    assert catalog.get("MobileNetV3Small").published.top1 is None
    assert catalog.get("ConvNeXtTiny").published.top5 is None
    assert catalog.get("EfficientNetV2B0").published.cpu_ms is None


def test_published_table_rows_carry_name_family_sizes_and_figures():
    rows = {row["name"]: row for row in registry.published_table()}

    assert len(rows) == len(registry.names())
    assert rows["VGG16"] == {"name": "VGG16", "family": "VGG", "default_size": 224, "min_size": 32, "size_mb": 528,
                             "top1": 0.713, "top5": 0.901, "parameters_m": 138.4, "depth": 16, "cpu_ms": 69.5,
                             "gpu_ms": 4.2, "source": "Keras Applications docs"}
    assert rows["InceptionV3"]["default_size"] == 299 and rows["InceptionV3"]["min_size"] == 75


def test_unknown_backbone_error_lists_known_names():
    with pytest.raises(KeyError, match=r"Unknown backbone 'mobilenetv2'\. Known: Xception, VGG16"):
        catalog.get("mobilenetv2")


@pytest.mark.parametrize("size, expected", [
    (160, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"),
    (96, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"),
    (224, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
    (100, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),  # no 100 px weights: Keras loads 224
])
def test_mobilenet_v2_weights_file_depends_on_size(size, expected):
    assert catalog.get("MobileNetV2").weights_filename(size) == expected


def test_single_file_backbones_ignore_the_size():
    assert catalog.get("VGG16").weights_filename(64) == "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert catalog.get("EfficientNetB0").weights_filename(300) == "efficientnetb0_notop.h5"
    assert catalog.get("MobileNet").weights_filename(128) == "mobilenet_1_0_128_tf_no_top.h5"


@pytest.mark.parametrize("backbone, layer, block", [
    ("MobileNetV2", "block_3_expand", "block_3"),
    ("MobileNetV2", "block_16_project_BN", "block_16"),
    ("MobileNetV2", "Conv1", None),
    ("ResNet50", "conv3_block1_1_conv", "conv3"),
    ("ResNet50", "conv1_pad", "conv1"),
    ("ResNet50", "pool1_pool", None),
    ("VGG16", "block4_conv2", "block4"),
    ("EfficientNetB0", "block2a_expand_conv", "block2"),
    ("EfficientNetB0", "top_conv", None),
    ("InceptionV3", "mixed10", "mixed10"),
    ("ConvNeXtTiny", "convnext_tiny_stage_2_block_0_depthwise_conv", "2"),
])
def test_block_of_finds_the_stage_a_layer_belongs_to(backbone, layer, block):
    assert catalog.get(backbone).block_of(layer) == block


@pytest.mark.parametrize("backbone, blocks", [
    ("MobileNetV2", [f"block_{i}" for i in range(1, 17)]),
    ("VGG16", [f"block{i}" for i in range(1, 6)]),
    ("ResNet50", ["conv1", "conv2", "conv3", "conv4", "conv5"]),
    ("EfficientNetB0", [f"block{i}" for i in range(1, 8)]),
])
def test_block_pattern_finds_every_stage_in_the_real_layer_names(backbone, blocks):
    entry = catalog.get(backbone)
    found = []
    for row in layer_table(backbone).layers:
        block = entry.block_of(row.name)
        if block is not None and block not in found:
            found.append(block)

    assert found == blocks  # in network order, none missing


def test_only_nasnet_has_a_fixed_weights_size():
    fixed = {name: b.fixed_weights_size for name, b in registry.REGISTRY.items() if b.fixed_weights_size}

    assert fixed == {"NASNetMobile": 224, "NASNetLarge": 331}
