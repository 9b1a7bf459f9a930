"""Caches know their weights: a weights file replaced under the same name gives new features and a new probe figure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tlcore.backbones import catalog, weights_fingerprint
from tlcore.backbones.fingerprint import file_fingerprint
from tlcore.storage.paths import keras_models_dir


def test_a_file_replaced_under_its_name_gets_a_new_fingerprint_even_with_the_same_size_and_time(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"A" * 1000)
    first = file_fingerprint(path)
    assert file_fingerprint(path) == first  # remembered

    other = tmp_path / "other.h5"
    other.write_bytes(b"B" * 1000)
    stat = path.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same modification time
    os.replace(other, path)

    assert file_fingerprint(path) != first


def test_weights_fingerprint_names_the_content_not_the_word_imagenet(studio_dirs):
    backbone = catalog.get("MobileNetV2")
    target = keras_models_dir() / backbone.weights_filename(32)
    assert weights_fingerprint(backbone, 32, "imagenet").startswith("missing:")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"first file")
    first = weights_fingerprint(backbone, 32, "imagenet")
    target.write_bytes(b"other file")
    assert weights_fingerprint(backbone, 32, "imagenet") not in (first, f"missing:{target.name}")
    assert weights_fingerprint(backbone, 32, "random", seed=1) != weights_fingerprint(backbone, 32, None, seed=2)


def _features(config, root: Path, items):
    """The pooled training features the fast frozen phase would cache for this config (built with its weights)."""
    import keras

    from tlcore.datasets.pipeline import make_dataset
    from tlcore.modeling.model import build_model
    from tlcore.training.feature_cache import cached_features, feature_key

    keras.utils.set_random_seed(0)
    model = build_model(config, 2)
    images = make_dataset(root, items, config.image_size, 32, True)
    key = feature_key(config, root, "train", items)
    features = np.concatenate([batch.numpy() for batch, _ in cached_features(model, images, key).batch(256)])
    keras.backend.clear_session()
    return key, features


def _replace_with_random_weights(path: Path) -> None:
    """Another MobileNetV2 weights file under the same name: a random base, saved as the stand-in is."""
    import keras

    keras.utils.set_random_seed(7)
    base = catalog.get("MobileNetV2").build_base(32, weights=None)
    fresh = path.with_name("random-upload.h5")
    keras.saving.save_model(base, fresh)
    os.replace(fresh, path)  # what installing an upload does
    keras.backend.clear_session()


def test_swapping_the_weights_file_gives_new_features_and_a_new_probe_figure(standin_imagenet, tiny_dataset,
                                                                            make_config):
    from tlcore.backbones.probe import run_probe
    from tlcore.datasets.scan import scan_folder

    dataset = tiny_dataset("swap", classes=("0", "1"), per_class=20)
    scan = scan_folder(dataset)
    items = list(scan.files)
    config = make_config(dataset, weights="imagenet")
    weights_file = standin_imagenet / catalog.get("MobileNetV2").weights_filename(32)

    key_before, features_before = _features(config, scan.root, items)
    probe_before = run_probe(dataset, ["MobileNetV2"], 32, "imagenet", per_class=10)["rows"][0]
    assert _features(config, scan.root, items)[0] == key_before  # nothing changed: the same cache entry

    _replace_with_random_weights(weights_file)

    key_after, features_after = _features(config, scan.root, items)
    probe_after = run_probe(dataset, ["MobileNetV2"], 32, "imagenet", per_class=10)["rows"][0]
    assert features_after.shape == features_before.shape
    assert not np.allclose(features_after, features_before, atol=1e-3)  # computed from the new file, not reused
    assert probe_before["cached"] is False and probe_after["cached"] is False  # probed again, not the old figure
    assert key_after != key_before
