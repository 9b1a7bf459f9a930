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
    assert any(str(studio.keras_models) in caption.value for caption in at.caption)
