"""The instant model: predictions from a pretrained base with no training job, as Teachable Machine gives them.

Each class is the mean of its training images' pooled features, normalised (a cosine prototype). An image is given
the class whose prototype its features point at most. Because |features| is the same for every class,
argmax_c cos(f, p_c) = argmax_c f · p̂_c, so the classifier is exactly TL Studio's own model (base → pooling →
Dense head) with the head's kernel set to the normalised prototypes times one fitted scale and no bias. The instant
run is therefore an ordinary run folder: Predict, Demo, Grad-CAM, exports, evaluation and calibration all take it as
they take a trained run. A k-nearest-neighbour classifier on the same features is cross-validated beside it, as a
second opinion on how separable the classes are (it is not part of the saved model).

Features are cached per image (its path, size and modification time) and per base (backbone, image size and the
fingerprint of the weights actually loaded), so adding examples computes features for the new images only.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tlcore.config.training import WEIGHTS_IMAGENET, TrainConfig
from tlcore.modeling.checks import check_config
from tlcore.runs.folders import FINISHED, LOCAL_USER, RUNNING, Run, create_run, list_runs
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "INSTANT_FILE", "InstantConfig", "PrototypeFit", "normalised_prototypes", "fit_prototypes", "prototype_logits",
    "cross_validated_accuracy", "head_weights", "is_instant", "instant_summary", "instant_runs_on",
    "latest_instant_config", "instant_curve", "build_instant_run", "instant_task",
]

INSTANT_FILE = "instant.json"  # marks a run as an instant model, with its cross-validated figures
_CODE_VERSION = 1  # bump when the way features are extracted changes: old per-image caches are then ignored
_KNN_NEIGHBOURS = 5

Report = Callable[[float, str], None]


@dataclass(frozen=True)
class InstantConfig:
    """What an instant model is made from: a dataset, a base and its weights, an image size, and the split seed."""

    dataset: str
    backbone: str = "MobileNetV2"
    image_size: int = 96
    weights: str = WEIGHTS_IMAGENET
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InstantConfig":
        known = {"dataset", "backbone", "image_size", "weights", "seed"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown instant-model fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("dataset"), str) or not data["dataset"]:
            raise ValueError("The instant model needs a dataset (a folder under the data root).")
        return cls(**data)

    def train_config(self) -> TrainConfig:
        """The run's config: the base frozen whole, no augmentation, no dropout (nothing is trained)."""
        config = TrainConfig(dataset=self.dataset, backbone=self.backbone, image_size=int(self.image_size),
                             epochs=1, weights=self.weights, dropout=0.0, augment=False)
        return replace(config, split=replace(config.split, seed=int(self.seed)))


@dataclass(frozen=True)
class PrototypeFit:
    """Normalised class prototypes (classes × features), the training features' mean, and the fitted logit scale."""

    prototypes: np.ndarray
    centre: np.ndarray
    scale: float


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def normalised_prototypes(features: np.ndarray, labels: np.ndarray, class_count: int,
                          centre: np.ndarray | None = None) -> np.ndarray:
    """Each class's mean direction (features minus `centre`, made unit length, averaged, made unit length again).

    Centring first matters: a CNN's pooled features are all positive, so uncentred directions all point alike
    (SimpleShot's "CL2N" measured a large gain from it). A class with no image gets a zero row.
    """
    centred = _unit(features - (0 if centre is None else centre))
    prototypes = np.zeros((class_count, features.shape[1]), np.float64)
    for label in range(class_count):
        members = centred[labels == label]
        if len(members):
            prototypes[label] = members.mean(axis=0)
    norms = np.linalg.norm(prototypes, axis=1, keepdims=True)
    return prototypes / np.where(norms > 0, norms, 1.0)


def prototype_logits(features: np.ndarray, fit: PrototypeFit) -> np.ndarray:
    """What the saved model's head computes: scale × (features − centre) · prototypes.

    |features − centre| is the same for every class, so the argmax is the class of the highest cosine.
    """
    return fit.scale * (features - fit.centre) @ fit.prototypes.T


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def fit_prototypes(features: np.ndarray, labels: np.ndarray, class_count: int) -> PrototypeFit:
    """Prototypes of the centred features, and the one logit scale with the lowest log loss on them.

    The scale is a softmax temperature fitted in log space; calibration on the validation split (as for every run)
    refines it later. The head has no other free parameter.
    """
    from scipy.optimize import minimize_scalar

    centre = features.mean(axis=0)
    prototypes = normalised_prototypes(features, labels, class_count, centre)
    raw = prototype_logits(features, PrototypeFit(prototypes, centre, 1.0))
    rows = np.arange(len(labels))

    def log_loss(log_scale: float) -> float:
        return float(-_log_softmax(np.exp(log_scale) * raw)[rows, labels].mean())

    found = minimize_scalar(log_loss, bounds=(-12.0, 12.0), method="bounded")
    return PrototypeFit(prototypes, centre, float(np.exp(found.x)))


def cross_validated_accuracy(features: np.ndarray, labels: np.ndarray, seed: int = 0,
                             folds: int = 5) -> dict[str, Any]:
    """Stratified k-fold accuracy of the prototype classifier and of a cosine k-nearest-neighbour classifier.

    Returns {"prototype": mean, "prototype_spread": std, "knn": …, "knn_spread": …, "folds": k}; with fewer than
    2 images in some class no fold can be made and the figures are None (the message says why).
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier

    counts = np.bincount(labels) if len(labels) else np.zeros(0, int)
    present = counts[counts > 0]
    k = int(min(folds, present.min())) if len(present) >= 2 else 0
    if k < 2:
        return {"prototype": None, "prototype_spread": None, "knn": None, "knn_spread": None, "folds": 0,
                "message": "Cross-validation needs at least 2 classes with 2 images each."}
    class_count = int(labels.max()) + 1
    scores: dict[str, list[float]] = {"prototype": [], "knn": []}
    for train, test in StratifiedKFold(k, shuffle=True, random_state=seed).split(features, labels):
        fit = fit_prototypes(features[train], labels[train], class_count)
        predicted = prototype_logits(features[test], fit).argmax(axis=1)
        scores["prototype"].append(float((predicted == labels[test]).mean()))
        knn = KNeighborsClassifier(n_neighbors=min(_KNN_NEIGHBOURS, len(train)), metric="cosine")
        centre = features[train].mean(axis=0)
        knn.fit(features[train] - centre, labels[train])
        scores["knn"].append(float(knn.score(features[test] - centre, labels[test])))
    return {"prototype": float(np.mean(scores["prototype"])), "prototype_spread": float(np.std(scores["prototype"])),
            "knn": float(np.mean(scores["knn"])), "knn_spread": float(np.std(scores["knn"])), "folds": k}


def head_weights(fit: PrototypeFit) -> tuple[np.ndarray, np.ndarray]:
    """(kernel, bias) of TL Studio's Dense head that computes `prototype_logits`.

    Multi-class: kernel = scale × prototypesᵀ, bias = −kernelᵀ · centre. Two classes use one sigmoid unit (the
    studio's binary head), whose logit is the difference of the two classes' logits.
    """
    kernel = fit.scale * fit.prototypes.T
    if kernel.shape[1] == 2:
        kernel = kernel[:, 1:] - kernel[:, :1]
    bias = -(fit.centre @ kernel)
    return kernel.astype(np.float32), bias.astype(np.float32)


def is_instant(run: Run) -> bool:
    return (run.path / INSTANT_FILE).exists()


def instant_summary(run: Run) -> dict[str, Any] | None:
    """The instant model's record (cross-validated figures, images per class), or None for a trained run."""
    return read_json(run.path / INSTANT_FILE) if is_instant(run) else None


def instant_runs_on(dataset: str) -> list[Run]:
    """The finished instant models made on `dataset`, newest first."""
    found = []
    for run in list_runs((FINISHED,)):
        summary = instant_summary(run)
        if summary and (summary.get("config") or {}).get("dataset") == dataset:
            found.append(run)
    return found


def latest_instant_config(dataset: str) -> InstantConfig | None:
    """The settings of the newest instant model on `dataset` (base, weights, size, seed): what a refresh after new
    examples or labels reuses, so its features come from the cache and only the new images are computed. None when
    no instant model was made on it yet (the Train page's button makes the first)."""
    for run in instant_runs_on(dataset):
        try:
            return InstantConfig.from_dict(instant_summary(run)["config"])
        except (KeyError, TypeError, ValueError):  # a damaged record: an older one may still do
            continue
    return None


def instant_curve(dataset: str) -> list[tuple[int, float]]:
    """(training images, held-out accuracy) of every instant model made on `dataset`, oldest first: the
    active-learning curve as the user made it, one point per refresh."""
    points = []
    for run in reversed(instant_runs_on(dataset)):
        summary = instant_summary(run) or {}
        accuracy = summary.get("held_out_accuracy")
        per_class = summary.get("train_images_per_class") or {}
        if isinstance(accuracy, (int, float)) and isinstance(per_class, dict):
            points.append((int(sum(per_class.values())), float(accuracy)))
    return points


# --- features, cached per image ------------------------------------------------------------------------------------
def _base_identity(config: TrainConfig) -> str:
    """Backbone, size and the weights' content (tlcore.backbones.weights_fingerprint, not the word "imagenet"):
    another weights file never reuses these features."""
    from tlcore.backbones import EXTRACTION_VERSION, weights_fingerprint
    from tlcore.backbones import get as get_backbone

    weights = weights_fingerprint(get_backbone(config.backbone), config.image_size, config.weights,
                                  seed=config.split.seed)
    identity = {"backbone": config.backbone, "size": config.image_size, "weights": weights,
                "code": [_CODE_VERSION, EXTRACTION_VERSION]}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def _image_key(root: Path, relative: str) -> str:
    stat = (root / relative).stat()
    return f"{relative}|{stat.st_size}|{stat.st_mtime_ns}"


class _FeatureStore:
    """Pooled features per image file for one base, in one .npz: read once, extended with the images it lacks."""

    def __init__(self, identity: str):
        self.path = cache_root() / "instant" / f"{identity}.npz"
        self.features: dict[str, np.ndarray] = {}
        if self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as stored:
                    self.features = dict(zip(stored["keys"].tolist(), stored["features"]))
            except (OSError, ValueError, KeyError):  # a damaged cache is recomputed, never trusted
                self.features = {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.asarray(list(self.features), dtype=str)
        stacked = np.stack(list(self.features.values())) if self.features else np.zeros((0, 0), np.float32)
        tmp = self.path.with_name(f".{self.path.stem}.tmp.npz")
        np.savez(tmp, keys=keys, features=stacked)
        tmp.replace(self.path)


def _features_for(model, root: Path, items: list[tuple[str, int]], image_size: int, store: _FeatureStore,
                  report: Report, share: tuple[float, float]) -> np.ndarray:
    """Features of `items` in order, computing only those the store lacks (a batch at a time, with progress)."""
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.training.feature_cache import feature_extractor

    keys = [_image_key(root, relative) for relative, _ in items]
    missing = [index for index, key in enumerate(keys) if key not in store.features]
    if missing:
        extractor = feature_extractor(model)
        batch = 64
        start, width = share
        for first in range(0, len(missing), batch):
            chosen = missing[first:first + batch]
            images, _ = load_arrays(root, [items[index] for index in chosen], image_size)
            for index, vector in zip(chosen, extractor.predict(images, verbose=0)):
                store.features[keys[index]] = np.asarray(vector, np.float32)
            done = min(len(missing), first + batch)
            report(start + width * done / len(missing), f"computing features {done:,}/{len(missing):,} new images")
    return np.stack([store.features[key] for key in keys]) if keys else np.zeros((0, 0), np.float32)


# --- the run ---------------------------------------------------------------------------------------------------------
def build_instant_run(instant: InstantConfig, report: Report | None = None, owner: str = LOCAL_USER) -> Run:
    """Make an instant-model run: prototypes from the training split, then the end-of-training steps of every run
    (evaluate on the test split, calibrate on the validation split, model card)."""
    import keras

    from tlcore.modeling.model import build_model, keras_param_counts
    from tlcore.training.callbacks import save_model_atomic
    from tlcore.training.finish import END_OF_TRAINING, Trained, finish_training
    from tlcore.training.fit import prepare_split

    report = report or (lambda fraction, message: None)
    config = instant.train_config()
    check_config(config)
    report(0.02, "reading the dataset")
    root, split = prepare_split(config)
    class_count = len(split.class_names)
    if class_count < 2:
        raise ValueError("An instant model needs at least two classes with images.")
    missing = [name for label, name in enumerate(split.class_names)
               if not any(item_label == label for _, item_label in split.train)]
    if missing:
        raise ValueError(f"No training image for class(es): {', '.join(missing)}. Add examples first.")

    run = create_run(config, owner)
    run.update_status(state=RUNNING, started_at=time.time(), phase="computing features", kind="instant")
    run.write_split(split)
    keras.utils.set_random_seed(instant.seed)
    model = build_model(config, class_count)
    store = _FeatureStore(_base_identity(config))
    train_features = _features_for(model, root, split.train, config.image_size, store, report, (0.05, 0.6))
    store.save()
    labels = np.asarray([label for _, label in split.train], np.int64)

    report(0.7, "fitting class prototypes")
    fit = fit_prototypes(train_features, labels, class_count)
    kernel, bias = head_weights(fit)
    model.get_layer("head").set_weights([kernel, bias])
    save_model_atomic(model, run.model_path)
    cross_validated = cross_validated_accuracy(train_features, labels, seed=instant.seed)

    report(0.8, "evaluating, calibrating and writing the model card")
    # the steps of every trained run but "notify" (its line would land in the CLI's JSON; the status is set below)
    steps = tuple(step for step in END_OF_TRAINING if step.name != "notify")
    outcome = finish_training(Trained(run, config, model, root, split, cancelled=False), steps)
    split_name, _ = split.held_out
    counts = keras_param_counts(model)
    record = {"kind": "instant", "method": "cosine class prototypes", "config": instant.to_dict(),
              "cross_validated": cross_validated, "scale": fit.scale,
              "train_images_per_class": {name: int((labels == label).sum())
                                         for label, name in enumerate(split.class_names)},
              "held_out": split_name, "held_out_accuracy": outcome["test_accuracy"]}
    write_json_atomic(run.path / INSTANT_FILE, record)
    run.update_status(state=FINISHED, phase=FINISHED, finished_at=time.time(), eta_seconds=0, epochs_done=0,
                      test_accuracy=outcome["test_accuracy"], total_params=counts.total, trainable_params=0,
                      non_trainable_params=counts.total, train_images=len(split.train))
    report(1.0, "done")
    return run


def instant_task(params: dict[str, Any], report: Report) -> dict[str, Any]:
    """Task kind "instant": build the instant model in a job process (the web server never runs TensorFlow)."""
    owner = str(params.get("owner") or LOCAL_USER)
    instant = InstantConfig.from_dict({key: value for key, value in params.items() if key != "owner"})
    run = build_instant_run(instant, report, owner)
    summary = instant_summary(run) or {}
    return {"run": run.id, "cross_validated": summary.get("cross_validated"),
            "held_out": summary.get("held_out"), "held_out_accuracy": summary.get("held_out_accuracy")}
