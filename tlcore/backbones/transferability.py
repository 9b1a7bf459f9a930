"""How well each freeze depth transfers: a cross-validated linear probe on the base's features at every block boundary.

Early feature maps are generic (edges, colours, textures), later ones specific to what the base was trained on. One
inference pass over a stratified sample of the training split taps the output of every block the freeze control
knows (`freeze_blocks.blocks`), pools each (global average), and fits a logistic regression per block with stratified
k-fold cross-validation (scikit-learn). Freezing the base below a block boundary keeps exactly the features tapped
there, so the probe's accuracy says what that much frozen base already gives *these* images.

A backbone without block boundaries (one block: a KerasHub preset whose names say no stage) is tapped at evenly
spaced layer indices instead, and the result says so. Results are cached per training-sample content, backbone,
weights (by content: `fingerprint.weights_fingerprint`, never the word "imagenet") and image size. Pretrained
weights come only from this server (`weights.pretrained_weights`, shared with the backbone probe): never a download,
never random weights instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tlcore.backbones import catalog as backbones
from tlcore.backbones import freeze_blocks
from tlcore.backbones import weights as weights_module
from tlcore.backbones.fingerprint import EXTRACTION_VERSION, file_fingerprint, weights_fingerprint
from tlcore.backbones.probe import EXTRACT_BATCH
from tlcore.config.split import SplitConfig
from tlcore.config.training import WEIGHTS_IMAGENET
from tlcore.datasets.pipeline import load_arrays
from tlcore.datasets.scan import DatasetScan, scan_folder
from tlcore.datasets.split import make_split
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "DEFAULT_MAX_IMAGES", "FOLDS", "EVEN_TAPS", "RECOMMENDATION_RULE", "GENERIC_TO_SPECIFIC", "Tap",
    "TooLittleData", "tap_points", "training_sample", "check_enough", "weights_key", "probe_cache_path",
    "cached_probe", "cross_validated_probe", "layer_compute", "TapFeatures", "extract_tap_features",
    "recommended_row", "probe_by_depth",
]

DEFAULT_MAX_IMAGES = 2000
FOLDS = 5
EVEN_TAPS = 8  # taps of a backbone without block boundaries
CACHE_VERSION = 2  # 2: the forward timing and each layer's compute are stored (the cost model's inputs)
RECOMMENDATION_RULE = ("Recommended: freeze below the shallowest block boundary whose probe accuracy is within one "
                       "fold-spread (standard deviation over folds) of the best; the blocks after it add nothing "
                       "your classes can use, so they train.")
GENERIC_TO_SPECIFIC = ("Early feature maps are generic (edges, colours, textures), later ones specific to what the "
                       "base learnt first: the probe shows where the base's features stop helping your classes.")


class TooLittleData(ValueError):
    """Too few images for a cross-validated probe; `class_counts` says how many each class has."""

    def __init__(self, message: str, class_counts: dict[str, int]):
        super().__init__(message)
        self.class_counts = class_counts


@dataclass(frozen=True)
class Tap:
    """The output of base layer `layer_index`, the last layer of block `block`: what freezing below `fine_tune_at`
    (= layer_index + 1) keeps. `fine_tune_at` equal to the layer count is the whole base frozen."""

    block: str
    layer_index: int

    @property
    def fine_tune_at(self) -> int:
        return self.layer_index + 1


def tap_points(backbone_name: str) -> tuple[list[Tap], bool]:
    """The taps (one per block, at its last layer) and whether they are evenly spaced layer indices instead
    (a backbone whose layer names give no block boundaries)."""
    blocks = freeze_blocks.blocks(backbone_name)
    if len(blocks) > 1:
        return [Tap(block.name, block.last_layer) for block in blocks], False
    count = freeze_blocks.layer_count(backbone_name)
    indices = sorted({max(1, round(count * step / EVEN_TAPS)) - 1 for step in range(1, EVEN_TAPS + 1)})
    return [Tap(f"layer {index}", index) for index in indices], True


def training_sample(scan: DatasetScan, split: SplitConfig, max_images: int = DEFAULT_MAX_IMAGES,
                    seed: int = 0) -> list[tuple[str, int]]:
    """A stratified, seeded sample of at most `max_images` of the training split (the images a run trains on);
    every class keeps its share, and at least its images up to 2."""
    train = make_split(scan, split).train
    if len(train) <= max_images:
        return sorted(train)
    by_class: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for item in train:
        by_class[item[1]].append(item)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in sorted(by_class):
        items = by_class[label]
        quota = min(len(items), max(2, math.floor(max_images * len(items) / len(train))))
        chosen.extend(items[i] for i in sorted(rng.choice(len(items), size=quota, replace=False)))
    return sorted(chosen)


def check_enough(labels: np.ndarray, class_names: list[str]) -> int:
    """The number of folds the probe can use; TooLittleData (with the counts) when a class has fewer than 2 images."""
    counts = Counter(int(label) for label in labels)
    class_counts = {name: counts.get(index, 0) for index, name in enumerate(class_names)}
    present = [count for count in class_counts.values() if count > 0]
    if len(present) < 2:
        raise TooLittleData("A probe needs images of at least 2 classes in the training split.", class_counts)
    small = {name: count for name, count in class_counts.items() if count < 2}
    if small:
        listed = ", ".join(f"{name} ({count})" for name, count in small.items())
        raise TooLittleData(f"Too few training images for a cross-validated probe: every class needs at least 2, "
                            f"and these have fewer: {listed}.", class_counts)
    return min(FOLDS, min(present))


def weights_key(backbone_name: str, image_size: int, keras_weights: str | None, seed: int = 0) -> str:
    """What the probe's features were computed from, as a short hash for the cache's file name: the weights by
    content (`weights_fingerprint`: the file Keras loads, an installed upload, a custom backbone's own file, a
    KerasHub preset folder; a random base by its seed), a custom backbone's layers and the extraction's code
    version. Other weights under the same name are another cache entry."""
    backbone = backbones.get(backbone_name)
    identity = {"weights": weights_fingerprint(backbone, image_size, keras_weights, seed),
                "preprocess": backbone.preprocess, "extraction": EXTRACTION_VERSION}
    own_file = backbone.own_weights_file
    if own_file is not None and own_file.is_file():  # its layers live there too, even for a random redraw
        identity["backbone_file"] = file_fingerprint(own_file)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _sample_identity(root: Path, sample: list[tuple[str, int]]) -> str:
    """The sampled files' names, labels, sizes and modification times: a replaced image is another version."""
    digest = hashlib.sha256()
    for relative, label in sample:
        stat = (root / relative).stat()
        digest.update(f"{relative}\t{label}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def probe_cache_path(fingerprint: str, sample_identity: str, backbone_name: str, image_size: int,
                     identity: str) -> Path:
    safe_name = "".join(char if char.isalnum() or char in "-_." else "_" for char in backbone_name)
    return (cache_root() / "transferability" / fingerprint /
            f"{safe_name}_{image_size}_{identity}_{sample_identity}_v{CACHE_VERSION}.json")


def _cache_key(dataset: str, backbone_name: str, image_size: int, weights: str, split: SplitConfig,
               max_images: int, seed: int) -> tuple[DatasetScan, list[tuple[str, int]], Path]:
    """(the scan, the sampled training images, the cache file). Weights that are not on this server raise first."""
    keras_weights = weights_module.pretrained_weights(backbone_name, image_size, weights,
                                                      who="The transferability probe")
    scan = scan_folder(dataset)
    sample = training_sample(scan, split or SplitConfig(), max_images, seed)
    identity = weights_key(backbone_name, image_size, keras_weights, seed)
    path = probe_cache_path(scan.fingerprint, _sample_identity(scan.root, sample), backbone_name, image_size,
                            identity)
    return scan, sample, path


def cached_probe(dataset: str, backbone_name: str, image_size: int, weights: str,
                 split: SplitConfig | None = None, max_images: int = DEFAULT_MAX_IMAGES,
                 seed: int = 0) -> dict[str, Any] | None:
    """The stored probe for exactly this data, base and weights, or None (no TensorFlow: pages call it on every
    rerun). Unavailable weights or an unusable split also give None; computing says why."""
    try:
        return read_json(_cache_key(dataset, backbone_name, image_size, weights, split or SplitConfig(), max_images,
                                    seed)[2])
    except (ValueError, KeyError, OSError, weights_module.WeightsUnavailable):
        return None


def _pooled(tensor):
    """Global average over every axis between batch and channels (a feature map's height and width, a token
    sequence's tokens)."""
    import keras

    if len(tensor.shape) <= 2:
        return tensor
    return keras.ops.mean(tensor, axis=tuple(range(1, len(tensor.shape) - 1)))


def layer_compute(base) -> list[float]:
    """Forward compute of every base layer per image, roughly in multiply-adds: its weights times the positions it is
    applied at (a convolution's output height × width, a transformer block's tokens), plus its output's size (the
    element-wise work of BatchNorm, activations, additions). The cost model of `tlcore.modeling.freeze_depth`."""
    costs = []
    for layer in base.layers:
        try:
            output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output
            shape = [int(side) for side in output.shape[1:] if side is not None]
        except (AttributeError, ValueError, TypeError):  # a layer used more than once has no single output
            shape = []
        positions = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        costs.append(float(layer.count_params() * positions + (np.prod(shape) if shape else 0)))
    return costs


@dataclass
class TapFeatures:
    """What one pass over the sample gives: pooled features per tap, the steady forward seconds per image (the
    first call traces and is not counted) and each base layer's compute (`layer_compute`)."""

    features: list[np.ndarray]
    forward_seconds_per_image: float
    layer_compute: list[float]
    device: str


def extract_tap_features(backbone_name: str, image_size: int, keras_weights: str | None, images: np.ndarray,
                         taps: list[Tap], seed: int = 0,
                         progress: Callable[[int, int], None] | None = None) -> TapFeatures:
    """Pooled features at every tap, from one forward pass per batch (ImagePreprocess → base → each tap's
    output → global average). Random weights are drawn from `seed`, so they repeat. The last batch is padded to the
    batch size, so the graph is traced once."""
    import keras
    import tensorflow as tf

    from tlcore.layers.preprocess import ImagePreprocess

    backbone = backbones.get(backbone_name)
    keras.utils.set_random_seed(seed)
    base = backbone.build_base(image_size, keras_weights)
    compute = layer_compute(base)
    outputs = []
    for tap in taps:
        output = base.layers[tap.layer_index].output
        outputs.append(_pooled(output[0] if isinstance(output, (list, tuple)) else output))
    tapped = keras.Model(base.inputs, outputs)
    inputs = keras.Input(shape=(image_size, image_size, 3))
    model = keras.Model(inputs, tapped(ImagePreprocess(backbone.preprocess)(inputs), training=False))
    forward = tf.function(lambda batch: model(batch, training=False))
    parts: list[list[np.ndarray]] = [[] for _ in taps]
    timings: list[float] = []
    for start in range(0, len(images), EXTRACT_BATCH):
        batch = images[start:start + EXTRACT_BATCH]
        count = len(batch)
        if count < EXTRACT_BATCH:
            batch = np.concatenate([batch, np.zeros((EXTRACT_BATCH - count, *batch.shape[1:]), batch.dtype)])
        began = time.perf_counter()
        results = forward(tf.constant(batch))
        results = [np.asarray(result, dtype=np.float32)[:count]
                   for result in (results if isinstance(results, (list, tuple)) else [results])]
        timings.append(time.perf_counter() - began)
        for index, result in enumerate(results):
            parts[index].append(result)
        if progress is not None:
            progress(min(start + EXTRACT_BATCH, len(images)), len(images))
    if len(timings) < 3:  # too few batches to leave out the traced one: time the traced graph once more
        began = time.perf_counter()
        forward(tf.constant(images[:EXTRACT_BATCH] if len(images) >= EXTRACT_BATCH else batch))
        timings.append(time.perf_counter() - began)
    gpus = tf.config.list_logical_devices("GPU")
    keras.backend.clear_session()
    return TapFeatures([np.concatenate(part) for part in parts], float(np.median(timings[1:])) / EXTRACT_BATCH,
                       compute, f"GPU ({gpus[0].name})" if gpus else "CPU")


def cross_validated_probe(features: np.ndarray, labels: np.ndarray, folds: int, seed: int = 0) -> list[float]:
    """Accuracy of a standardised logistic regression on each of `folds` stratified folds. BLAS runs on one thread:
    on a busy 2-core server its threads fight each other and a fit took 20-50× longer (measured 7.2 s against 0.15 s
    for 1,000 × 320 features). The solver stops at a tolerance of 1e-3 (at most 100 iterations): on the bench's 18
    blocks it fitted in 13.4 s instead of 22.7 s, every block's accuracy within 0.8 points of 300 iterations' and the
    same recommendation. An unconverged fit is a probe, not a failure: its warning is not shown."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from threadpoolctl import threadpool_limits

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=100, tol=1e-3))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [float(score) for score in cross_val_score(classifier, features, labels, cv=splitter)]


def recommended_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """RECOMMENDATION_RULE: the shallowest row whose accuracy is at least the best accuracy minus the best row's
    fold spread (rows in network order; ties for the best go to the shallowest)."""
    if not rows:
        raise ValueError("No probe rows to recommend from.")
    best = max(rows, key=lambda row: row["accuracy"])
    threshold = best["accuracy"] - best["accuracy_spread"]
    return next(row for row in rows if row["accuracy"] >= threshold)


def probe_by_depth(dataset: str, backbone_name: str, image_size: int, weights: str = WEIGHTS_IMAGENET,
                   split: SplitConfig | None = None, max_images: int = DEFAULT_MAX_IMAGES, seed: int = 0,
                   use_cache: bool = True,
                   report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Probe accuracy (mean and spread over folds) and feature width at every tap, with the recommended depth.

    Raises TooLittleData (with class counts) for a sample a cross-validated probe cannot use, WeightsUnavailable for
    pretrained weights that are not on this server (never random instead).
    """
    split = split or SplitConfig()
    scan, sample, path = _cache_key(dataset, backbone_name, image_size, weights, split, max_images, seed)
    if use_cache and (cached := read_json(path)):
        report(1.0, "probe from cache")
        return {**cached, "cached": True}
    labels = np.asarray([label for _, label in sample], dtype=np.int64)
    folds = check_enough(labels, scan.class_names)
    keras_weights = weights_module.pretrained_weights(backbone_name, image_size, weights,
                                                      who="The transferability probe")
    taps, evenly_spaced = tap_points(backbone_name)
    start = time.perf_counter()
    report(0.0, f"loading {len(sample)} training images")
    images, _ = load_arrays(scan.root, sample, image_size)
    report(0.05, "one pass through the base")
    extracted = extract_tap_features(backbone_name, image_size, keras_weights, images, taps, seed,
                                     lambda done, total: report(0.05 + 0.45 * done / total,
                                                                f"features: {done}/{total} images"))
    features = extracted.features
    extract_s = time.perf_counter() - start
    rows = []
    for index, (tap, tap_features) in enumerate(zip(taps, features)):
        report(0.5 + 0.5 * index / len(taps), f"linear probe {index + 1}/{len(taps)} ({tap.block})")
        scores = cross_validated_probe(tap_features, labels, folds, seed)
        rows.append({"block": tap.block, "layer_index": tap.layer_index, "fine_tune_at": tap.fine_tune_at,
                     "layer_name": freeze_blocks.layer_name(backbone_name, tap.layer_index),
                     "feature_width": int(tap_features.shape[1]), "accuracy": float(np.mean(scores)),
                     "accuracy_spread": float(np.std(scores)), "fold_accuracies": scores})
    recommended = recommended_row(rows)
    result = {
        "dataset": str(scan.root), "dataset_fingerprint": scan.fingerprint, "backbone": backbone_name,
        "image_size": image_size, "weights": weights,
        "weights_identity": weights_fingerprint(backbones.get(backbone_name), image_size, keras_weights, seed),
        "images": int(len(labels)), "classes": len(scan.class_names),
        "class_counts": dict(Counter(scan.class_names[label] for label in labels)), "folds": folds,
        "layer_count": freeze_blocks.layer_count(backbone_name), "evenly_spaced": evenly_spaced,
        "taps_note": ("This backbone's layer names give no block boundaries: it is probed at evenly spaced layer "
                      "indices." if evenly_spaced else "Probed at the end of every block."),
        "rows": rows, "recommended_fine_tune_at": recommended["fine_tune_at"],
        "recommended_block": recommended["block"], "rule": RECOMMENDATION_RULE,
        "chance": 1 / len(set(labels.tolist())), "seconds": round(time.perf_counter() - start, 2),
        "extract_seconds": round(extract_s, 2),
        "forward_seconds_per_image": extracted.forward_seconds_per_image, "layer_compute": extracted.layer_compute,
        "device": extracted.device,
    }
    write_json_atomic(path, result)
    report(1.0, "done")
    return {**result, "cached": False}
