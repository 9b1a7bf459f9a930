"""Train page, KerasHub backbones: listed beside the Keras applications, the pretrained choice names the preset and,
offline without its folder, says where to place it and blocks Start; transformer layers are the freeze blocks and the
counts follow them live (shipped layer tables: nothing is built)."""

from page_helpers import by_label, metric_value

from tlcore.backbones import kerashub_presets_root
from tlcore.modeling.model import count_params


def _pick(open_page, name: str):
    at = open_page("pages/train.py")
    by_label(at.selectbox, "Backbone").set_value(name).run()
    assert not at.exception
    return at


def test_dinov2_names_its_preset_and_where_to_place_it_offline(open_page, pretend_online):
    pretend_online(False)
    at = _pick(open_page, "DINOv2-S14")

    weights = by_label(at.radio, "Starting weights")
    assert weights.options == ["Pretrained (KerasHub preset `dinov2_small`)",
                               "Random initialisation (no pretrained weights)"]
    error = " ".join(element.value for element in at.error)
    assert "`dinov2_small`" in error and "KerasHub presets folder as `dinov2_small/`" in error
    assert str(kerashub_presets_root()) not in error  # a server folder is for its admin, not on the page
    assert by_label(at.number_input, "Image size (px)").value == 224


def test_transformer_layers_are_the_freeze_blocks_and_counts_follow_them(open_page):
    at = _pick(open_page, "ViT-B16")
    blocks = by_label(at.selectbox, "Train from block")
    assert [option.split(" ")[0] for option in blocks.options] == \
        ["stem", *[f"transformer_block_{i}" for i in range(1, 13)], "top", "(whole"]

    blocks.set_value(blocks.options[12]).run()  # train transformer_block_12 and the top

    fine_tune_at = at.session_state["freeze_index_ViT-B16"]
    expected = count_params("ViT-B16", 10, fine_tune_at, image_size=224)
    assert metric_value(at, "Total parameters") == f"{expected.total:,}"
    assert metric_value(at, "Trainable") == f"{expected.trainable:,}"
    assert 7_000_000 < expected.trainable < 7_200_000  # one ViT-B layer (7,087,872) + final norm + head
