"""Backbones page: the registry as a table, published figures, weights status, family filter."""

import pandas as pd
from page_helpers import by_label


def _table(at) -> pd.DataFrame:
    """The published-figures table (the page may show other tables below it)."""
    tables = [frame.value for frame in at.dataframe if {"name", "top1", "weights"} <= set(frame.value.columns)]
    assert len(tables) == 1
    return tables[0]


def test_table_lists_every_backbone_with_published_figures(open_page):
    at = open_page("pages/backbones.py")

    table = _table(at)
    assert len(table) >= 40
    assert table["name"].is_unique
    mobilenet_v2 = table.set_index("name").loc["MobileNetV2"]
    assert mobilenet_v2["family"] == "MobileNet"
    assert mobilenet_v2["top1"] == 0.713
    assert mobilenet_v2["default_size"] == 224
    assert mobilenet_v2["weights"] == "not cached"
    assert set(table["weights"]) == {"not cached"}  # an empty KERAS_HOME caches nothing


def test_family_filter_narrows_the_table(open_page):
    at = open_page("pages/backbones.py")
    families = by_label(at.multiselect, "Families")
    assert "MobileNet" in families.options and "ResNet" in families.options

    families.set_value(["MobileNet", "VGG"]).run()

    table = _table(at)
    assert sorted(table["name"]) == ["MobileNet", "MobileNetV2", "VGG16", "VGG19"]
    assert set(table["family"]) == {"MobileNet", "VGG"}


def test_cached_weights_file_shows_as_cached(open_page, studio):
    studio.keras_models.mkdir(parents=True)
    # The page checks the file Keras would load at the default size.
    (studio.keras_models / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5").write_bytes(b"x")

    at = open_page("pages/backbones.py")

    weights = _table(at).set_index("name")["weights"]
    assert weights["MobileNetV2"] == "cached"
    assert weights["MobileNet"] == "not cached"
    captions = " ".join(caption.value for caption in at.caption)
    assert "the server's Keras weights folder" in captions and str(studio.keras_models) not in captions  # admins: log


def test_kerashub_backbones_sit_in_the_table_and_the_page_says_where_their_presets_go(open_page, pretend_online):
    from tlcore.backbones import kerashub_presets_root

    pretend_online(False)
    folder = kerashub_presets_root() / "dinov2_small"  # a placed preset folder (config.json is what marks it)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")

    at = open_page("pages/backbones.py")

    table = _table(at).set_index("name")
    assert table.loc["DINOv2-S14", "top1"] == 0.811 and table.loc["DINOv2-S14", "family"] == "KerasHub"
    assert "DINOv2 README" in table.loc["DINOv2-S14", "source"]
    assert table.loc["CLIP-B16-vision", "top1"] == 0.683 and "OpenCLIP" in table.loc["CLIP-B16-vision", "source"]
    assert pd.isna(table.loc["ViT-B16", "top1"]) and table.loc["ViT-B16", "parameters_m"] == 85.8
    presets = next(frame.value for frame in at.dataframe if "Preset" in frame.value.columns).set_index("Backbone")
    assert presets.loc["DINOv2-S14", "On this server"] == "preset folder on server"
    assert presets.loc["ViT-B16", "On this server"] == "missing (offline)"
    advice = " ".join(info.value for info in at.info)
    assert "`vit_base_patch16_224_imagenet`" in advice and "KerasHub presets folder" in advice
    assert str(kerashub_presets_root()) not in advice  # a server folder is for its admin, not on the page
    assert "dinov2_small" not in advice  # it is on the server: nothing to place
