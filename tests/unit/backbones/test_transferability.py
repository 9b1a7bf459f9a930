"""Transferability by depth: the probe follows the base's weights (a stand-in pretrained base against random weights),
the recommendation rule as documented, the cache keyed by the weights' content, and too little data said plainly."""

import numpy as np
import pytest

from tlcore.backbones import transferability
from tlcore.backbones.transferability import (
    RECOMMENDATION_RULE,
    TooLittleData,
    check_enough,
    probe_by_depth,
    recommended_row,
    tap_points,
    weights_key,
)


def _row(fine_tune_at: int, accuracy: float, spread: float) -> dict:
    return {"block": f"b{fine_tune_at}", "fine_tune_at": fine_tune_at, "accuracy": accuracy, "accuracy_spread": spread}


# --- the rule ------------------------------------------------------------------------------------------------------
def test_recommended_is_the_shallowest_within_one_spread_of_the_best():
    rows = [_row(10, 0.60, 0.02), _row(20, 0.86, 0.03), _row(30, 0.90, 0.05), _row(40, 0.88, 0.01)]
    # best 0.90 ± 0.05 → threshold 0.85: 0.86 at 20 is the shallowest that reaches it
    assert recommended_row(rows)["fine_tune_at"] == 20


def test_recommended_is_the_best_when_nothing_shallower_comes_close():
    rows = [_row(10, 0.60, 0.02), _row(20, 0.84, 0.03), _row(30, 0.90, 0.05), _row(40, 0.70, 0.01)]
    assert recommended_row(rows)["fine_tune_at"] == 30  # 0.84 < 0.85


def test_recommended_uses_the_best_rows_spread_and_counts_the_threshold_in():
    rows = [_row(10, 0.80, 0.0), _row(20, 0.90, 0.10)]
    assert recommended_row(rows)["fine_tune_at"] == 10  # exactly on best − spread counts
    rows = [_row(10, 0.80, 0.5), _row(20, 0.90, 0.0)]
    assert recommended_row(rows)["fine_tune_at"] == 20  # a shallow row's own large spread does not help it


def test_ties_for_the_best_go_to_the_shallowest_and_empty_is_refused():
    assert recommended_row([_row(10, 0.9, 0.0), _row(20, 0.9, 0.0)])["fine_tune_at"] == 10
    with pytest.raises(ValueError):
        recommended_row([])
    assert "shallowest" in RECOMMENDATION_RULE and "fold-spread" in RECOMMENDATION_RULE


# --- taps ----------------------------------------------------------------------------------------------------------
def test_taps_are_the_block_ends_and_the_last_is_the_whole_base():
    from tlcore.backbones import blocks, layer_count

    taps, evenly = tap_points("MobileNetV2")
    assert not evenly
    assert [tap.block for tap in taps] == [block.name for block in blocks("MobileNetV2")]
    assert [tap.fine_tune_at for tap in taps][:-1] == [block.first_layer for block in blocks("MobileNetV2")][1:]
    assert taps[-1].fine_tune_at == layer_count("MobileNetV2")


def test_a_backbone_without_blocks_is_tapped_at_evenly_spaced_layers(monkeypatch):
    from tlcore.backbones import freeze_blocks

    monkeypatch.setattr(freeze_blocks, "blocks", lambda name: [freeze_blocks.Block("base", 0, 99, 1, 0)])
    monkeypatch.setattr(freeze_blocks, "layer_count", lambda name: 100)
    taps, evenly = tap_points("anything")
    assert evenly
    assert [tap.fine_tune_at for tap in taps] == [12, 25, 38, 50, 62, 75, 88, 100]


# --- too little data -----------------------------------------------------------------------------------------------
def test_a_class_with_one_image_is_refused_with_the_counts():
    with pytest.raises(TooLittleData, match=r"at least 2.*cat \(1\)") as raised:
        check_enough(np.array([0, 0, 0, 1]), ["dog", "cat"])
    assert raised.value.class_counts == {"dog": 3, "cat": 1}
    with pytest.raises(TooLittleData, match="at least 2 classes"):
        check_enough(np.array([0, 0, 0]), ["dog", "cat"])
    assert check_enough(np.array([0, 0, 0, 1, 1]), ["dog", "cat"]) == 2  # folds: the smallest class's count
    assert check_enough(np.array([0] * 9 + [1] * 9), ["dog", "cat"]) == transferability.FOLDS


# --- weights identity and the cache --------------------------------------------------------------------------------
def test_the_cache_key_is_the_weights_content_not_the_name(tmp_path):
    first, same, other = tmp_path / "a.weights.h5", tmp_path / "b.weights.h5", tmp_path / "c.weights.h5"
    first.write_bytes(b"one")
    same.write_bytes(b"one")
    other.write_bytes(b"two")
    key = weights_key("MobileNetV2", 32, str(first))
    assert key == weights_key("MobileNetV2", 32, str(same))
    assert key != weights_key("MobileNetV2", 32, str(other))
    assert weights_key("MobileNetV2", 32, None) != weights_key("MobileNetV2", 32, None, seed=1)
    with pytest.raises(ValueError, match="not found"):
        transferability._cache_key(str(tmp_path), "MobileNetV2", 32, str(tmp_path / "missing.h5"), None, 10, 0)


def test_imagenet_key_follows_the_cached_file(standin_imagenet):
    from tlcore.backbones import catalog
    from tlcore.backbones.weights import pretrained_weights

    key = weights_key("MobileNetV2", 32, pretrained_weights("MobileNetV2", 32, "imagenet"))
    cached = standin_imagenet / catalog.get("MobileNetV2").weights_filename(32)
    data = cached.read_bytes()
    cached.unlink()  # a hard link to the session's file: write a changed copy in its place
    cached.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert weights_key("MobileNetV2", 32, pretrained_weights("MobileNetV2", 32, "imagenet")) != key


def test_an_installed_upload_is_probed_from_where_it_was_installed(standin_imagenet, tiny_dataset):
    """Weights Keras would delete under its own name (VGG16's, not the published bytes) are installed under
    `tlstudio-installed/` and given to Keras by path: the probe must find them there, not ask Keras for "imagenet"
    (which looks only under its own name, and offline fails)."""
    from tlcore.backbones import catalog
    from tlcore.backbones.weights import installed_path

    backbone = catalog.get("MobileNetV2")
    keras_name = standin_imagenet / backbone.weights_filename(32)
    installed = installed_path(backbone, 32)
    installed.parent.mkdir(parents=True, exist_ok=True)
    keras_name.replace(installed)
    dataset = tiny_dataset("tiny-installed", classes=("3", "4"), per_class=10)
    result = probe_by_depth(dataset, "MobileNetV2", 32, "imagenet")
    assert not result["cached"] and len(result["rows"]) == len(tap_points("MobileNetV2")[0])
    assert result["weights_identity"].startswith("sha256:")
    assert transferability.cached_probe(dataset, "MobileNetV2", 32, "imagenet")["rows"] == result["rows"]


def test_probe_follows_the_weights_and_is_cached_per_weights(standin_imagenet, tiny_dataset):
    dataset = tiny_dataset("tiny-transfer", classes=("3", "4", "5", "6", "7"), per_class=24)
    pretrained = probe_by_depth(dataset, "MobileNetV2", 32, "imagenet")
    random = probe_by_depth(dataset, "MobileNetV2", 32, "random")
    print([round(row["accuracy"], 3) for row in pretrained["rows"]])
    print([round(row["accuracy"], 3) for row in random["rows"]])
    assert not pretrained["cached"] and not random["cached"]
    assert pretrained["weights_identity"] != random["weights_identity"]
    assert pretrained["folds"] == transferability.FOLDS and pretrained["images"] > 50
    assert [row["fine_tune_at"] for row in pretrained["rows"]] == [tap.fine_tune_at for tap in tap_points("MobileNetV2")[0]]
    chance = 1 / 5
    assert pretrained["rows"][-1]["accuracy"] > chance + 0.4, "the stand-in base's features must discriminate"
    differences = [abs(a["accuracy"] - b["accuracy"]) for a, b in zip(pretrained["rows"], random["rows"])]
    assert max(differences) > 0.1, "other weights, other probe accuracies"
    assert pretrained["recommended_fine_tune_at"] == recommended_row(pretrained["rows"])["fine_tune_at"]
    from tlcore.backbones import layer_count

    assert pretrained["forward_seconds_per_image"] > 0, "the pass times this device for the step-time estimate"
    assert len(pretrained["layer_compute"]) == layer_count("MobileNetV2") and min(pretrained["layer_compute"]) >= 0
    again = probe_by_depth(dataset, "MobileNetV2", 32, "imagenet")
    assert again["cached"] and again["rows"] == pretrained["rows"]
    assert transferability.cached_probe(dataset, "MobileNetV2", 32, "random")["rows"] == random["rows"]


def test_layer_compute_counts_weights_times_positions_plus_outputs():
    import keras

    inputs = keras.Input(shape=(8, 8, 3))
    convolved = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 3·3·3·4 + 4 = 112 weights at 8×8 positions
    pooled = keras.layers.GlobalAveragePooling2D()(convolved)
    model = keras.Model(inputs, keras.layers.Dense(2)(pooled))  # 4·2 + 2 = 10 weights, once
    compute = transferability.layer_compute(model)
    assert compute == [8 * 8 * 3, 112 * 64 + 8 * 8 * 4, 4, 10 + 2]
