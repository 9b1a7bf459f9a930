"""Quick probe: a linear classifier on pooled features ranks backbones by how well they separate the user's classes."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tlcore.backbones import probe
from tlcore.backbones.custom import custom_root
from tlcore.datasets.pipeline import load_arrays
from tlcore.datasets.scan import scan_folder
from tlcore.storage.atomic import write_json_atomic


def _synthetic(separation: float, seed: int = 0):
    """Three classes, 40 points each, 16-d Gaussian features; class means `separation` apart."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 40)
    means = rng.normal(size=(3, 16)) * separation
    return means[labels] + rng.normal(size=(120, 16)), labels


def test_linear_probe_scores_separable_features_high_and_noise_at_chance():
    good = probe.fit_linear_probe(*_synthetic(separation=3.0))
    noise = probe.fit_linear_probe(np.random.default_rng(1).normal(size=(120, 16)), np.repeat(np.arange(3), 40))
    assert good["val_accuracy"] >= 0.95
    assert noise["val_accuracy"] < 0.6  # chance is 1/3
    assert good["train_images"] == 84 and good["val_images"] == 36  # 30 % held out, stratified


def test_rank_puts_better_extractor_first_and_failures_last():
    rows = [{"backbone": "Noise", "val_accuracy": 0.33, "images_per_s": 900},
            {"backbone": "Broken", "error": "weights not cached"},
            {"backbone": "Good", "val_accuracy": 0.97, "images_per_s": 100}]
    ranked = probe.rank(rows)
    assert [(row["backbone"], row["rank"]) for row in ranked] == [("Good", 1), ("Noise", 2), ("Broken", None)]


def test_stratified_sample_is_capped_per_class_and_seeded(digits):
    from tlcore.datasets.scan import scan_folder

    scan = scan_folder(digits)
    sample = probe.stratified_sample(scan, per_class=5, seed=3)
    assert len(sample) == 50 and np.bincount([label for _, label in sample]).tolist() == [5] * 10
    assert sample == probe.stratified_sample(scan, per_class=5, seed=3)
    assert sample != probe.stratified_sample(scan, per_class=5, seed=4)


def _three_digits(tiny_dataset) -> str:
    """Every image of digits 0, 1 and 7, as a dataset of its own (its name under the data root)."""
    return tiny_dataset("digits-0-1-7", classes=("0", "1", "7"), per_class=10_000)


def test_real_probe_at_32px_random_weights_then_cached(tiny_dataset):
    dataset = _three_digits(tiny_dataset)
    progress = []
    result = probe.run_probe(str(dataset), ["MobileNetV2", "VGG16"], 32, weights="random", per_class=12,
                             report=lambda fraction, message: progress.append(message))
    assert result["images"] == 36 and result["classes"] == 3
    rows = {row["backbone"]: row for row in result["rows"]}
    assert set(rows) == {"MobileNetV2", "VGG16"}
    assert rows["MobileNetV2"]["feature_dim"] == 1280 and rows["VGG16"]["feature_dim"] == 512
    accuracies = [row["val_accuracy"] for row in result["rows"]]
    assert accuracies == sorted(accuracies, reverse=True) and [row["rank"] for row in result["rows"]] == [1, 2]
    assert all(0 <= a <= 1 and row["images_per_s"] > 0 for a, row in zip(accuracies, result["rows"]))
    assert all(row["val_images"] == 11 for row in result["rows"])  # 30 % of 36, stratified
    assert progress[-1] == "done"
    again = probe.run_probe(str(dataset), ["VGG16"], 32, weights="random", per_class=12)
    assert again["rows"][0]["cached"] is True
    assert again["rows"][0]["val_accuracy"] == rows["VGG16"]["val_accuracy"]


def test_imagenet_weights_not_cached_is_an_error_row_never_random(tiny_dataset):
    dataset = _three_digits(tiny_dataset)
    result = probe.run_probe(str(dataset), ["MobileNetV2"], 32, weights="imagenet", per_class=5)
    row = result["rows"][0]
    assert row["rank"] is None and "val_accuracy" not in row
    assert "not cached" in row["error"] and "random weights" in row["error"]


def _timeless(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("seconds", "images_per_s", "cached")}


def test_random_weight_probes_are_seeded_same_seed_same_features_and_result_cached_or_not(tiny_dataset, monkeypatch):
    monkeypatch.setattr(probe, "EXTRACT_BATCH", 8)  # 36 images: progress after each of 5 batches
    dataset = _three_digits(tiny_dataset)
    scan = scan_folder(dataset)
    images, _ = load_arrays(scan.root, probe.stratified_sample(scan, per_class=4, seed=0), 32)
    first, _ = probe.extract_features("MobileNetV2", 32, None, images, seed=3)
    again, _ = probe.extract_features("MobileNetV2", 32, None, images, seed=3)
    other, _ = probe.extract_features("MobileNetV2", 32, None, images, seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)

    def probe_row(use_cache: bool, report=lambda fraction, message: None) -> dict:
        return probe.run_probe(dataset, ["VGG16"], 32, weights="random", per_class=12, seed=3,
                               use_cache=use_cache, report=report)["rows"][0]

    progress = []
    computed = probe_row(True, lambda fraction, message: progress.append((fraction, message)))
    recomputed, cached = probe_row(False), probe_row(True)
    assert [fraction for fraction, _ in progress] == pytest.approx([0, 0, 8 / 36, 16 / 36, 24 / 36, 32 / 36, 1, 1])
    assert progress[3][1] == "probing VGG16 (1/1): 16/36 images"
    assert (computed["cached"], recomputed["cached"], cached["cached"]) == (False, False, True)
    assert _timeless(computed) == _timeless(recomputed) == _timeless(cached)


def test_a_custom_backbone_saved_again_under_the_same_name_is_probed_again(studio_dirs):
    folder = custom_root() / "lab"
    folder.mkdir(parents=True)
    write_json_atomic(folder / "backbone.json", {"name": "custom-lab", "preprocess": "none", "input_size": 32})
    (folder / "base.keras").write_bytes(b"first base")
    first = probe.cache_path("f1", "custom-lab", 32, "imagenet", 30, 0)
    assert probe.cache_path("f1", "custom-lab", 32, "imagenet", 30, 0) == first

    (folder / "base.keras").write_bytes(b"other base")  # same size: only the modification time differs
    stat = (folder / "base.keras").stat()
    os.utime(folder / "base.keras", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    assert probe.cache_path("f1", "custom-lab", 32, "imagenet", 30, 0) != first
    assert probe.cache_path("f1", "VGG16", 32, "imagenet", 30, 0).name.startswith("VGG16_32_imagenet_n30_s0_")
