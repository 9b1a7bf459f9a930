"""How well each freeze depth transfers: a cross-validated linear probe on the base's features at every block boundary.

Early feature maps are generic (edges, colours, textures), later ones specific to what the base was trained on. One
inference pass over a stratified sample of the training split taps the output of every block the freeze control
knows (`freeze_blocks.blocks`), pools each (global average), and fits a logistic regression per block with stratified
k-fold cross-validation (scikit-learn). Freezing the base below a block boundary keeps exactly the features tapped
there, so the probe's accuracy says what that much frozen base already gives *these* images.

A backbone without block boundaries (one block: a KerasHub preset whose names say no stage) is tapped at evenly
spaced layer indices instead, and the result says so. Results are cached per training-sample content, backbone,
weights identity (a hash of the weights' content, never the word "imagenet") and image size.
"""

from __future__ import annotations

import hashlib
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
from tlcore.backbones.probe import EXTRACT_BATCH
from tlcore.config.split import SplitConfig
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM
from tlcore.datasets.pipeline import load_arrays
from tlcore.datasets.scan import DatasetScan, scan_folder
from tlcore.datasets.split import make_split
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "DEFAULT_MAX_IMAGES", "FOLDS", "EVEN_TAPS", "RECOMMENDATION_RULE", "GENERIC_TO_SPECIFIC", "Tap",
    "TooLittleData", "tap_points", "training_sample", "check_enough", "weights_identity", "probe_cache_path",
    "cached_probe", "cross_validated_probe", "extract_tap_features", "recommended_row", "probe_by_depth",
]

DEFAULT_MAX_IMAGES = 2000
FOLDS = 5
EVEN_TAPS = 8  # taps of a backbone without block boundaries
CACHE_VERSION = 1
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


_CONTENT_HASHES: dict[tuple[str, int, int], str] = {}


def _content_hash(path: Path) -> str:
    """sha256 of a file's bytes (a folder: of every file in it, by relative name), remembered by path, size and
    modification time, so a large weights file is read once per process."""
    files = sorted(item for item in path.rglob("*") if item.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for item in files:
        stat = item.stat()
        key = (str(item.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _CONTENT_HASHES:
            file_digest = hashlib.sha256()
            with open(item, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    file_digest.update(chunk)
            _CONTENT_HASHES[key] = file_digest.hexdigest()
        name = item.relative_to(path) if path.is_dir() else ""  # a single file: its bytes alone, not its name
        digest.update(f"{name}:{_CONTENT_HASHES[key]}\n".encode())
    return digest.hexdigest()[:16]


def _keras_weights(backbone_name: str, image_size: int, weights: str) -> tuple[str | None, Path | None]:
    """(the `weights=` for Keras, the file or folder holding them; None for random). Never downloads, never falls
    back to random: missing pretrained weights raise WeightsUnavailable."""
    backbone = backbones.get(backbone_name)
    if weights == WEIGHTS_RANDOM:
        return None, None
    if weights != WEIGHTS_IMAGENET:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ValueError(f"Weights file not found: {weights} (use 'imagenet', 'random' or a weights file).")
        return str(path), path
    problem = weights_module.imagenet_problem(backbone, image_size)
    if problem:
        raise weights_module.WeightsUnavailable(problem)
    state = weights_module.status(backbone, image_size)
    if not state.cached:
        raise weights_module.WeightsUnavailable(
            f"Pretrained weights for {backbone.name} are not on this server; the transferability "
            "probe does not download. Install them on the Backbones page, or choose random weights.")
    return WEIGHTS_IMAGENET, state.path


def weights_identity(backbone_name: str, image_size: int, weights: str, seed: int = 0) -> str:
    """What the weights are, by content: "random-s0", or the hash of the weights file (preset folder, custom
    backbone's own file): other weights under the same name are another cache entry."""
    if weights == WEIGHTS_RANDOM:
        return f"random-s{seed}"
    return _content_hash(_keras_weights(backbone_name, image_size, weights)[1])


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
    scan = scan_folder(dataset)
    sample = training_sample(scan, split, max_images, seed)
    identity = weights_identity(backbone_name, image_size, weights, seed)
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


def extract_tap_features(backbone_name: str, image_size: int, keras_weights: str | None, images: np.ndarray,
                         taps: list[Tap], seed: int = 0,
                         progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Pooled features at every tap, from one forward pass per batch (ImagePreprocess → base → each tap's
    output → global average). Random weights are drawn from `seed`, so they repeat."""
    import keras
    import tensorflow as tf

    from tlcore.layers.preprocess import ImagePreprocess

    backbone = backbones.get(backbone_name)
    keras.utils.set_random_seed(seed)
    base = backbone.build_base(image_size, keras_weights)
    outputs = []
    for tap in taps:
        output = base.layers[tap.layer_index].output
        outputs.append(_pooled(output[0] if isinstance(output, (list, tuple)) else output))
    tapped = keras.Model(base.inputs, outputs)
    inputs = keras.Input(shape=(image_size, image_size, 3))
    model = keras.Model(inputs, tapped(ImagePreprocess(backbone.preprocess)(inputs), training=False))
    forward = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    parts: list[list[np.ndarray]] = [[] for _ in taps]
    for start in range(0, len(images), EXTRACT_BATCH):
        results = forward(tf.constant(images[start:start + EXTRACT_BATCH]))
        for index, result in enumerate(results if isinstance(results, (list, tuple)) else [results]):
            parts[index].append(np.asarray(result, dtype=np.float32))
        if progress is not None:
            progress(min(start + EXTRACT_BATCH, len(images)), len(images))
    keras.backend.clear_session()
    return [np.concatenate(part) for part in parts]


def cross_validated_probe(features: np.ndarray, labels: np.ndarray, folds: int, seed: int = 0) -> list[float]:
    """Accuracy of a standardised logistic regression on each of `folds` stratified folds. BLAS runs on one thread:
    on a busy 2-core server its threads fight each other and a fit took 20-50× longer (measured 7.2 s against 0.15 s
    for 1,000 × 320 features)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    from threadpoolctl import threadpool_limits

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1):
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
    keras_weights, _ = _keras_weights(backbone_name, image_size, weights)
    taps, evenly_spaced = tap_points(backbone_name)
    start = time.perf_counter()
    report(0.0, f"loading {len(sample)} training images")
    images, _ = load_arrays(scan.root, sample, image_size)
    report(0.05, "one pass through the base")
    features = extract_tap_features(backbone_name, image_size, keras_weights, images, taps, seed,
                                    lambda done, total: report(0.05 + 0.45 * done / total,
                                                               f"features: {done}/{total} images"))
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
        "weights_identity": weights_identity(backbone_name, image_size, weights, seed),
        "images": int(len(labels)), "classes": len(scan.class_names),
        "class_counts": dict(Counter(scan.class_names[label] for label in labels)), "folds": folds,
        "layer_count": freeze_blocks.layer_count(backbone_name), "evenly_spaced": evenly_spaced,
        "taps_note": ("This backbone's layer names give no block boundaries: it is probed at evenly spaced layer "
                      "indices." if evenly_spaced else "Probed at the end of every block."),
        "rows": rows, "recommended_fine_tune_at": recommended["fine_tune_at"],
        "recommended_block": recommended["block"], "rule": RECOMMENDATION_RULE,
        "chance": 1 / len(set(labels.tolist())), "seconds": round(time.perf_counter() - start, 2),
        "extract_seconds": round(extract_s, 2),
    }
    write_json_atomic(path, result)
    report(1.0, "done")
    return {**result, "cached": False}
