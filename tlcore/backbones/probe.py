"""Quick probe: which backbone's features separate *your* classes best? A linear classifier on pooled features.

For each backbone: a stratified, seeded sample of the dataset → ImagePreprocess + base + GlobalAveragePooling2D →
scikit-learn logistic regression fitted on a stratified train part → validation accuracy. Ranked best first.
ImageNet weights are used only when cached; random weights only when the caller asks for them, never as a fallback.
Results are cached by dataset fingerprint + backbone + size + weights (by content) + sample under `cache_root()/probe/`; random
weights are drawn from the probe's seed, so a cached result is the one the same call would compute again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from typing import Any, Callable

import numpy as np

from tlcore.backbones import catalog as backbones
from tlcore.backbones import weights as weights_module
from tlcore.backbones.fingerprint import EXTRACTION_VERSION, file_fingerprint, weights_fingerprint
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM
from tlcore.datasets.pipeline import load_arrays
from tlcore.datasets.scan import DatasetScan, scan_folder
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "DEFAULT_PER_CLASS", "VAL_FRACTION", "EXTRACT_BATCH", "stratified_sample", "fit_linear_probe", "rank",
    "resolve_weights", "extract_features", "cache_path", "probe_backbone", "run_probe", "probe_task"
]

DEFAULT_PER_CLASS = 30
VAL_FRACTION = 0.3
EXTRACT_BATCH = 32


def stratified_sample(scan: DatasetScan, per_class: int, seed: int = 0) -> list[tuple[str, int]]:
    """At most `per_class` files of each class, drawn with a seeded generator; sorted, so the same call gives the same list."""
    by_class: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for item in scan.files:
        by_class[item[1]].append(item)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in sorted(by_class):
        items = by_class[label]
        picks = rng.choice(len(items), size=min(per_class, len(items)), replace=False)
        chosen.extend(items[i] for i in sorted(picks))
    return sorted(chosen)


def fit_linear_probe(features: np.ndarray, labels: np.ndarray, seed: int = 0,
                     val_fraction: float = VAL_FRACTION) -> dict[str, Any]:
    """Standardise, fit logistic regression on a stratified train part, score the held-out part."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    counts = np.bincount(labels)
    if (counts[counts > 0] < 2).any():
        raise ValueError("Every class needs at least 2 sampled images for a validation split; sample more per class.")
    train_x, val_x, train_y, val_y = train_test_split(features, labels, test_size=val_fraction, random_state=seed,
                                                      stratify=labels)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    classifier.fit(train_x, train_y)
    return {"val_accuracy": float(classifier.score(val_x, val_y)), "train_images": int(len(train_y)),
            "val_images": int(len(val_y))}


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best validation accuracy first (ties: faster first); rows that failed go last, each numbered by rank."""
    ok = sorted((r for r in rows if r.get("val_accuracy") is not None),
                key=lambda r: (-r["val_accuracy"], -(r.get("images_per_s") or 0)))
    failed = [r for r in rows if r.get("val_accuracy") is None]
    return [{**row, "rank": index} for index, row in enumerate(ok, start=1)] + [{**r, "rank": None} for r in failed]


def resolve_weights(backbone_name: str, image_size: int, weights: str) -> str | None:
    """The `weights=` for Keras (`weights.pretrained_weights`: cached weights only, never a download, never random
    instead); only the words "imagenet" and "random", which name the probe's cache entries."""
    if weights not in (WEIGHTS_IMAGENET, WEIGHTS_RANDOM):
        raise ValueError(f"Unknown weights '{weights}': use 'imagenet' or 'random'.")
    return weights_module.pretrained_weights(backbone_name, image_size, weights, who="The probe")


def extract_features(backbone_name: str, image_size: int, weights: str | None, images: np.ndarray, seed: int = 0,
                     progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, float]:
    """Pooled base features of uint8 images (ImagePreprocess → base → GlobalAveragePooling2D), and the seconds the
    forward passes took (building the model, tracing the first batch and `progress` excluded: images/s is the steady
    speed).

    `weights=None` draws the base from `seed` (Keras' global seed, set just before it is built): the same seed gives
    the same random base, so a probe from random weights repeats exactly, cached or not.
    `progress(images done, images)` is called after every batch: a large base on many images takes a while.
    """
    import keras
    import tensorflow as tf

    from tlcore.layers.preprocess import ImagePreprocess

    backbone = backbones.get(backbone_name)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = ImagePreprocess(backbone.preprocess)(inputs)
    x = backbone.build_base(image_size, weights)(x, training=False)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    forward = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    batches = [tf.constant(images[i:i + EXTRACT_BATCH]) for i in range(0, len(images), EXTRACT_BATCH)]
    forward(batches[0]).numpy()  # trace once (and once more below for a smaller last batch: counted, it is small)
    parts, seconds = [], 0.0
    for batch in batches:
        start = time.perf_counter()
        parts.append(forward(batch).numpy())
        seconds += time.perf_counter() - start
        if progress is not None:
            progress(sum(len(part) for part in parts), len(images))
    keras.backend.clear_session()
    return np.concatenate(parts).astype(np.float32), seconds


def cache_path(fingerprint: str, backbone_name: str, image_size: int, weights: str, per_class: int, seed: int):
    """Where a probe result is kept: named by the dataset's fingerprint and a hash of everything else the result
    depends on, the weights by content (`weights_fingerprint`: the file Keras loads, a custom backbone's own file, a
    KerasHub preset folder; a random base by its seed), preprocessing and the extraction's code version. Replacing
    a weights file (an upload over the old one) therefore probes again instead of showing the old figure."""
    backbone = backbones.get(backbone_name)
    keras_weights = None if weights == WEIGHTS_RANDOM else weights
    identity = {"weights": weights_fingerprint(backbone, image_size, keras_weights, seed),
                "preprocess": backbone.preprocess, "extraction": EXTRACTION_VERSION}
    own_file = backbone.own_weights_file
    if own_file is not None and own_file.is_file():  # its layers live there too, even for a random redraw
        identity["backbone_file"] = file_fingerprint(own_file)
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    name = f"{backbone_name}_{image_size}_{weights}_n{per_class}_s{seed}_{digest}.json"
    return cache_root() / "probe" / fingerprint / name


def probe_backbone(scan: DatasetScan, sample: list[tuple[str, int]], images: np.ndarray, backbone_name: str,
                   image_size: int, weights: str, per_class: int, seed: int, use_cache: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    path = cache_path(scan.fingerprint, backbone_name, image_size, weights, per_class, seed)
    if use_cache and (cached := read_json(path)):
        return {**cached, "cached": True}
    keras_weights = resolve_weights(backbone_name, image_size, weights)
    labels = np.asarray([label for _, label in sample])
    start = time.perf_counter()
    features, extract_s = extract_features(backbone_name, image_size, keras_weights, images, seed, progress)
    fit = fit_linear_probe(features, labels, seed)
    seconds = time.perf_counter() - start
    row = {"backbone": backbone_name, "image_size": image_size, "weights": weights, "images": int(len(labels)),
           "feature_dim": int(features.shape[1]), **fit, "seconds": round(seconds, 2),
           "images_per_s": round(len(labels) / extract_s, 1), "dataset_fingerprint": scan.fingerprint}
    write_json_atomic(path, row)
    return {**row, "cached": False}


def run_probe(dataset: str, backbone_names: list[str], image_size: int, weights: str = WEIGHTS_IMAGENET,
              per_class: int = DEFAULT_PER_CLASS, seed: int = 0, use_cache: bool = True,
              report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Probe every backbone on one stratified sample of the dataset; a backbone that cannot run gets an error row."""

    scan = scan_folder(dataset)
    sample = stratified_sample(scan, per_class, seed)
    report(0.0, f"loading {len(sample)} images")
    images, _ = load_arrays(scan.root, sample, image_size)
    rows = []
    for index, name in enumerate(backbone_names):
        what = f"probing {name} ({index + 1}/{len(backbone_names)})"
        report(index / len(backbone_names), what)

        def images_done(done: int, total: int, index=index, what=what) -> None:
            report((index + done / total) / len(backbone_names), f"{what}: {done}/{total} images")

        try:
            rows.append(probe_backbone(scan, sample, images, name, image_size, weights, per_class, seed, use_cache,
                                       images_done))
        except (weights_module.WeightsUnavailable, ValueError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            rows.append({"backbone": name, "image_size": image_size, "weights": weights, "error": message})
    report(1.0, "done")
    return {"dataset": str(scan.root), "dataset_fingerprint": scan.fingerprint, "classes": len(scan.class_names),
            "images": len(sample), "per_class": per_class, "image_size": image_size, "weights": weights,
            "seed": seed, "rows": rank(rows)}


def probe_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task "probe": params as the keyword arguments of `run_probe` (dataset, backbones, image_size, weights, …)."""
    return run_probe(params["dataset"], list(params["backbones"]), int(params["image_size"]),
                     weights=params.get("weights", WEIGHTS_IMAGENET),
                     per_class=int(params.get("per_class", DEFAULT_PER_CLASS)), seed=int(params.get("seed", 0)),
                     use_cache=bool(params.get("use_cache", True)), report=report)
