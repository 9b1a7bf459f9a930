"""KerasHub backbones, built offline from tiny configurations with random weights: the base ends in the patch-token
grid (so pooling, Flatten and the head work as for a CNN), CLIP's transformer layers are blocks, and offline a
pretrained choice names the preset and the folder to place it in; a preset folder placed there is what loads."""

from dataclasses import replace

import numpy as np
import pytest

from tlcore.backbones import kerashub
from tlcore.backbones.layer_tables import table_of

TINY = {
    "DINOv2-S14": dict(patch_size=8, num_layers=2, hidden_dim=16, num_heads=2, intermediate_dim=32,
                       position_embedding_shape=(32, 32, 3)),
    "ViT-B16": dict(patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32),
    "CLIP-B16-vision": dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, intermediate_dim=32),
}


def _tiny(name):
    return replace(kerashub.KERASHUB[name], architecture=tuple(TINY[name].items()), patch_size=8)


@pytest.mark.parametrize("name", list(kerashub.KERASHUB))
def test_a_tiny_random_base_ends_in_the_patch_grid(name):
    backbone = _tiny(name)
    base = backbone.build_base(32, None)

    assert base.output.shape[1:] == (4, 4, 16)  # 32 px / 8-px patches, hidden size 16; class tokens dropped
    features = base.predict(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)), verbose=0)
    assert features.shape == (2, 4, 4, 16) and np.isfinite(features).all()
    table = table_of(base, name)
    assert table.feature_dim == 16 and sum(r.trainable + r.non_trainable for r in table.layers) == base.count_params()
    assert backbone.published.depth == 12 and backbone.source and backbone.preset


def test_clip_transformer_layers_are_blocks():
    base = _tiny("CLIP-B16-vision").build_base(32, None)
    blocks = {kerashub.KERASHUB["CLIP-B16-vision"].block_of(layer.name) for layer in base.layers} - {None}
    assert blocks == {"encoder_block_0", "encoder_block_1"}


def test_offline_pretrained_names_the_preset_and_the_folder(pretend_online, studio_dirs):
    pretend_online(False)
    with pytest.raises(ValueError, match=r"`dinov2_small`.*kerashub/dinov2_small/") as error:
        _tiny("DINOv2-S14").build_base(32, "imagenet")
    assert "random initialisation" in str(error.value)
    with pytest.raises(ValueError, match="multiple of 8"):
        _tiny("ViT-B16").build_base(36, None)


def test_a_preset_folder_placed_on_the_server_is_what_loads(pretend_online, studio_dirs):
    pretend_online(False)
    backbone = _tiny("ViT-B16")
    saved = backbone.hub_model(32, None)
    saved.save_to_preset(str(kerashub.presets_root() / backbone.preset))

    loaded = backbone.hub_model(32, "imagenet")  # offline: only the local folder can give it

    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), saved.get_weights()))
