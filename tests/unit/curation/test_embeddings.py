"""Embeddings: ImageNet weights only when cached (never silently random), features shared with the fast frozen
phase's cache (same keys). A run's own model is tested through the CLI (tests/unit/test_cli_curation.py)."""

import numpy as np
import pytest

from tlcore.backbones.weights import WeightsUnavailable
from tlcore.config.training import TrainConfig
from tlcore.curation import EmbedConfig, compute_embeddings
from tlcore.datasets import load_settings, scan_folder
from tlcore.training import feature_cache


def test_imagenet_weights_that_are_not_cached_are_refused(tiny_dataset):
    name = tiny_dataset("two", classes=("0", "1"), per_class=10)
    with pytest.raises(WeightsUnavailable, match="not cached"):
        compute_embeddings(EmbedConfig(name, "MobileNetV2", 32, "imagenet"))
    with pytest.raises(ValueError, match="Unknown weights"):
        compute_embeddings(EmbedConfig(name, "MobileNetV2", 32, "noise"))


def test_config_round_trips_through_json_dicts():
    config = EmbedConfig("d", "VGG16", 64, "random", run="r1", method="tsne", seed=3)
    assert EmbedConfig.from_dict({**config.to_dict(), "unknown": 1}) == config


def test_backbone_features_use_the_fast_frozen_phase_cache(tiny_dataset, standin_imagenet, monkeypatch):
    name = tiny_dataset("three", classes=("0", "1", "2"), per_class=10)
    embeddings = compute_embeddings(EmbedConfig(name, "MobileNetV2", 32, "imagenet"))

    scan = scan_folder(name)
    assert sorted(embeddings.paths) == [path for path, _ in scan.files]
    assert embeddings.features.shape == (30, 1280) and np.isfinite(embeddings.features).all()
    assert set(embeddings.splits) == {"train", "val", "test"}
    config = TrainConfig(dataset=name, backbone="MobileNetV2", image_size=32, weights="imagenet",
                         fine_tune_at=None, split=load_settings(name).split)
    train = [(p, int(label)) for p, label, s in zip(embeddings.paths, embeddings.labels, embeddings.splits)
             if s == "train"]
    assert (feature_cache.features_folder() / feature_cache.feature_key(config, scan.root, "train", train)).is_dir()

    def no_model(model):
        raise AssertionError("features were computed again instead of read from the cache")

    monkeypatch.setattr(feature_cache, "feature_extractor", no_model)
    again = compute_embeddings(EmbedConfig(name, "MobileNetV2", 32, "imagenet"))
    assert np.allclose(again.features, embeddings.features)
    centroids = [embeddings.features[embeddings.labels == c].mean(axis=0) for c in range(3)]
    assert min(np.linalg.norm(a - b) for i, a in enumerate(centroids) for b in centroids[i + 1:]) > 0
