"""KerasHub backbones, built offline from tiny configurations with random weights, through the app's own code: the base
ends in the patch-token grid (pooling, Flatten and the head work as for a CNN), transformer layers are blocks, the
Train page's counts match Keras, the probe's pooled features, fine-tuning by block, Grad-CAM on the patch grid, a
saved model loading in safe mode; offline a pretrained choice names the preset and the folder, and a preset folder
written by keras_hub's own `save_to_preset` under that name is what loads."""

from dataclasses import replace

import numpy as np
import pytest

from tlcore.backbones import kerashub
from tlcore.backbones.layer_tables import table_of
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

SIZE = 32
TINY = {
    "DINOv2-S14": dict(patch_size=8, num_layers=2, hidden_dim=16, num_heads=2, intermediate_dim=32,
                       position_embedding_shape=(SIZE, SIZE, 3)),
    "ViT-B16": dict(patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32),
    "CLIP-B16-vision": dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, intermediate_dim=32),
}
BLOCKS = {"DINOv2-S14": ["layers_0", "layers_1"], "ViT-B16": ["transformer_block_1", "transformer_block_2"],
          "CLIP-B16-vision": ["encoder_block_0", "encoder_block_1"]}


def _tiny(name: str) -> kerashub.KerasHubBackbone:
    """The same entry (preset name, classes, token layout) with a 2-layer, 16-wide architecture at 32 px."""
    return replace(kerashub.KERASHUB[name], name=f"{name}-tiny", architecture=tuple(TINY[name].items()), patch_size=8,
                   default_size=SIZE, min_size=8, fixed_weights_size=None)


@pytest.fixture
def tiny(monkeypatch):
    """Register the tiny entries in the catalog (`<name>-tiny`), so the app's code finds them by name."""
    for name in TINY:
        entry = _tiny(name)
        monkeypatch.setitem(kerashub.KERASHUB, entry.name, entry)
    return lambda name: f"{name}-tiny"


def _config(backbone: str, **changes) -> TrainConfig:
    return TrainConfig(**{"dataset": "x", "backbone": backbone, "image_size": SIZE, "weights": WEIGHTS_RANDOM,
                          **changes})


@pytest.mark.parametrize("name", list(TINY))
def test_a_tiny_base_ends_in_the_patch_grid_with_transformer_layers_as_blocks(name, tiny):
    from tlcore.backbones import freeze_blocks
    from tlcore.modeling.model import build_model, count_params, keras_param_counts

    backbone = kerashub.KERASHUB[tiny(name)]
    base = backbone.build_base(SIZE, None)

    assert base.output.shape[1:] == (4, 4, 16)  # 32 px / 8-px patches, hidden size 16; class tokens dropped
    features = base.predict(np.random.default_rng(0).uniform(-1, 1, (2, SIZE, SIZE, 3)), verbose=0)
    assert features.shape == (2, 4, 4, 16) and np.isfinite(features).all() and features.std() > 0.01
    table = table_of(base, name)
    assert table.feature_dim == 16 and sum(r.trainable + r.non_trainable for r in table.layers) == base.count_params()
    assert freeze_blocks.block_names(backbone.name) == ["stem", *BLOCKS[name], "top"]
    published = kerashub.KERASHUB[name]
    assert published.published.depth == 12 and published.source and published.preset

    last_block = freeze_blocks.fine_tune_at_for_block(backbone.name, BLOCKS[name][1])
    config = _config(backbone.name, fine_tune_at=last_block)
    live = count_params(backbone.name, 3, last_block, image_size=SIZE)  # what the Train page shows, no TensorFlow
    assert live == keras_param_counts(build_model(config, 3))
    assert 0 < live.trainable < live.total


def test_the_published_entries_have_shipped_layer_tables_matching_their_parameters():
    from tlcore.backbones.catalog import all_names, layer_table, pretrained_names

    for name, entry in kerashub.KERASHUB.items():
        assert name in pretrained_names() and name in all_names()
        table = layer_table(name)
        total = sum(row.trainable + row.non_trainable for row in table.layers)
        blocks = [row.name for row in table.layers if entry.block_of(row.name)]
        assert len(blocks) == entry.published.depth == 12
        assert table.feature_dim == {"DINOv2-S14": 384}.get(name, 768)
        if name != "CLIP-B16-vision":  # CLIP's published count holds the text tower too
            assert total == pytest.approx(entry.published.parameters_m * 1e6, rel=0.02)  # DINOv2: 22.16 M at 224 px


def test_offline_pretrained_names_the_preset_and_the_folder(pretend_online, tiny):
    from tlcore.backbones import status
    from tlcore.backbones.weights import WeightsUnavailable
    from tlcore.modeling.model import build_model

    pretend_online(False)
    state = status(kerashub.KERASHUB[tiny("DINOv2-S14")], SIZE, probe_network=True)
    assert not state.cached and state.label == "missing (offline)"
    # the preset and the folder name to copy it in as; no server path (the admin's log has it)
    assert "`dinov2_small`" in state.advice and "presets folder as `dinov2_small/`" in state.advice
    assert str(kerashub.presets_root()) not in state.advice
    with pytest.raises(WeightsUnavailable, match=r"`dinov2_small`.*presets folder as `dinov2_small/`") as error:
        build_model(_config(tiny("DINOv2-S14"), weights=WEIGHTS_IMAGENET), 2)
    assert "random initialisation" in str(error.value)
    with pytest.raises(ValueError, match="multiple of 8"):
        kerashub.KERASHUB[tiny("ViT-B16")].build_base(36, None)


@pytest.mark.parametrize("name", ["DINOv2-S14", "CLIP-B16-vision"])
def test_a_preset_folder_placed_on_the_server_is_what_loads(name, pretend_online, tiny, monkeypatch, tmp_path):
    """The stand-in preset is written by keras_hub's own save_to_preset (CLIP: the whole CLIP model, as the real
    preset holds both towers) under the preset's name in TLSTUDIO_KERASHUB_DIR; offline, build_model loads it."""
    import keras_hub

    from tlcore.backbones import status
    from tlcore.modeling.model import base_of, build_model

    monkeypatch.setenv(kerashub.PRESETS_DIR_ENV, str(tmp_path / "presets"))
    pretend_online(False)
    backbone = kerashub.KERASHUB[tiny(name)]
    if backbone.preset_attribute:
        text = keras_hub.models.CLIPTextEncoder(vocabulary_size=50, embedding_dim=16, hidden_dim=16, num_layers=1,
                                                num_heads=2, intermediate_dim=32, max_sequence_length=8)
        saved = keras_hub.models.CLIPBackbone(backbone.hub_model(SIZE, None), text, projection_dim=8)
        expected = saved.vision_encoder.get_weights()
    else:
        saved = backbone.hub_model(SIZE, None)
        expected = saved.get_weights()
    saved.save_to_preset(str(tmp_path / "presets" / backbone.preset))
    assert status(backbone, SIZE).label == "preset folder on server"

    model = build_model(_config(backbone.name, weights=WEIGHTS_IMAGENET), 2)  # offline: only the folder can give it

    loaded = base_of(model).get_weights()
    assert len(loaded) == len(expected)
    assert all(any(v.shape == w.shape and np.array_equal(w, v) for v in loaded) for w in expected)
    assert type(model.get_layer("base")).__name__ == "InferenceModeBase"


def test_pooled_features_for_the_probe_vary_with_the_image(tiny):
    from tlcore.backbones.probe import extract_features

    images = np.random.default_rng(1).integers(0, 255, (6, SIZE, SIZE, 3)).astype("float32")
    features, seconds = extract_features(tiny("DINOv2-S14"), SIZE, None, images)

    assert features.shape == (6, 16) and seconds >= 0
    assert np.std(features, axis=0).mean() > 1e-3  # different images, different features


def _region_task(count: int, seed: int):
    """Class 1 when a bright 12 px square sits in the top-left quadrant, class 0 when it sits in the bottom-right."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    images = rng.integers(0, 60, (count, SIZE, SIZE, 3)).astype(np.uint8)
    for image, label in zip(images, labels):
        row = 2 + rng.integers(0, 3) if label else 18 + rng.integers(0, 3)
        image[row:row + 12, row:row + 12] = 240
    return images, labels


def test_fine_tuning_from_a_block_trains_that_block_only_and_learns_the_task(tiny):
    import keras

    from tlcore.backbones import freeze_blocks
    from tlcore.modeling.model import base_of, build_model, compile_model

    keras.utils.set_random_seed(0)
    name = tiny("ViT-B16")
    at = freeze_blocks.fine_tune_at_for_block(name, "transformer_block_2")
    config = _config(name, fine_tune_at=at, learning_rate=3e-3, dropout=0.0, pooling="flatten")  # keeps where
    model = build_model(config, 2)
    compile_model(model, config.learning_rate, 2, config)
    base = base_of(model)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in base.layers}
    images, labels = _region_task(128, seed=0)

    model.fit(images.astype("float32"), labels.astype("float32"), epochs=4, batch_size=32, verbose=0)

    changed = {layer.name for layer in base.layers
               if any(not np.array_equal(a, b) for a, b in zip(before[layer.name], layer.get_weights()))}
    assert changed == {"transformer_block_2", "ln"}  # the last block and the norm after it; stem and block 1 frozen
    test_images, test_labels = _region_task(48, seed=1)
    probabilities = model.predict(test_images.astype("float32"), verbose=0)[:, 0]
    assert np.mean((probabilities > 0.5) == test_labels) >= 0.9 and probabilities.std() > 0.1


def test_grad_cam_on_the_patch_grid_sits_on_the_region_the_label_depends_on(tiny, tmp_path):
    """Trained from random weights on the region task, every layer training; the saved model loads in safe mode and
    Grad-CAM on its patch-token grid puts the class-1 evidence in the top-left quadrant."""
    import keras

    from tlcore.inference.gradcam import Explainer, quadrant_shares
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import build_model, compile_model

    keras.utils.set_random_seed(1)
    config = _config(tiny("ViT-B16"), fine_tune_at=0, learning_rate=3e-3, dropout=0.0)
    model = build_model(config, 2)
    compile_model(model, config.learning_rate, 2, config)
    images, labels = _region_task(256, seed=2)
    model.fit(images.astype("float32"), labels.astype("float32"), epochs=8, batch_size=32, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = load_model(tmp_path / "model.keras")
    test_images, test_labels = _region_task(24, seed=3)
    predicted = reloaded.predict(test_images.astype("float32"), verbose=0)[:, 0]
    assert np.allclose(predicted, model.predict(test_images.astype("float32"), verbose=0)[:, 0], atol=1e-5)
    assert np.mean((predicted > 0.5) == test_labels) >= 0.9 and predicted.std() > 0.1

    explainer = Explainer(reloaded)
    positives = test_images[test_labels == 1]
    shares = np.array([quadrant_shares(explainer.explain(image, class_index=1).heatmap) for image in positives])

    assert explainer.layer_name == "base/patch_grid"
    print("top-left share of the class-1 heatmap", shares[:, 0].round(2))
    assert np.mean(shares.argmax(axis=1) == 0) >= 0.8  # quadrant 0 is the top left
    assert np.median(shares[:, 0]) > 0.3  # measured 0.33 (a uniform map gives 0.25): it localises, coarsely


def test_the_fast_frozen_phase_trains_the_head_on_cached_pooled_features(tiny, pretend_online, monkeypatch, tmp_path):
    """A frozen pretrained base (a stand-in preset placed offline): the fast path applies, caches the pooled patch
    features once and trains the head alone; the whole model then predicts with that head, its base unchanged."""
    import keras
    import tensorflow as tf

    from tlcore.modeling.model import base_of, build_model, compile_model
    from tlcore.training import feature_cache

    monkeypatch.setenv(kerashub.PRESETS_DIR_ENV, str(tmp_path / "presets"))
    pretend_online(False)
    keras.utils.set_random_seed(2)
    backbone = kerashub.KERASHUB[tiny("DINOv2-S14")]
    backbone.hub_model(SIZE, None).save_to_preset(str(tmp_path / "presets" / backbone.preset))
    config = _config(backbone.name, weights=WEIGHTS_IMAGENET, learning_rate=1e-2, dropout=0.0)
    assert feature_cache.applies(config)
    model = build_model(config, 2)
    compile_model(model, config.learning_rate, 2, config)
    base_before = [w.copy() for w in base_of(model).get_weights()]
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 96)  # class 1: bright images, class 0: dark ones
    images = np.stack([rng.integers(150, 255, (SIZE, SIZE, 3)) if label else rng.integers(0, 100, (SIZE, SIZE, 3))
                       for label in labels]).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices((images, labels.astype("float32"))).batch(32)

    feature_cache.fit_head_on_features(model, batches, None, "kerashub-train", "kerashub-val", 32, 0, epochs=15,
                                       verbose=0)

    assert (feature_cache.features_folder() / "kerashub-train").exists()
    assert all(np.array_equal(a, b) for a, b in zip(base_before, base_of(model).get_weights()))
    predicted = model.predict(images, verbose=0)[:, 0]
    assert np.mean((predicted > 0.5) == labels) >= 0.9 and predicted.std() > 0.1


@pytest.mark.parametrize("name", list(TINY))
@pytest.mark.parametrize("fine_tune_at", [None, 0], ids=["frozen", "all-trainable"])
def test_counts_at_another_image_size_equal_what_keras_builds(name, fine_tune_at, tiny):
    """A transformer's position table has one row per token, so its weights grow with the image: the Train page's
    counts (from the table measured at the default size) follow, frozen or trainable (position ids: non-trainable)."""
    from tlcore.modeling.model import build_model, count_params, keras_param_counts

    backbone = kerashub.KERASHUB[tiny(name)]
    for size in (2 * SIZE, SIZE // 2):
        config = _config(backbone.name, image_size=size, fine_tune_at=fine_tune_at)
        assert count_params(backbone.name, 3, fine_tune_at, image_size=size) == keras_param_counts(
            build_model(config, 3)), size


def test_dinov2_counts_at_84_px_are_what_keras_counted():
    """The figures measured with Keras for DINOv2-S14 and 10 classes: 22,159,114 at 224 px (the preset's size) and
    22,074,634 at 84 px (37 tokens instead of 257: 220 rows of 384 fewer). The page once showed 22,159,114 for both."""
    from tlcore.modeling.model import count_params

    assert count_params("DINOv2-S14", 10, None, image_size=224).total == 22_159_114
    assert count_params("DINOv2-S14", 10, None, image_size=84).total == 22_074_634
    assert count_params("DINOv2-S14", 10, 0, image_size=84).non_trainable == 526_080  # the 518-px table, kept as is
