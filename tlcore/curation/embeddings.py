"""Pooled features of every image of a dataset, for the map, the label-issue finder and the near-duplicate search.

Three sources: a backbone with ImageNet weights (only when cached on this server: never downloaded, never silently
random), a backbone from random weights (only when asked), or a run's own trained model. Features are the model's
pooling layer, computed per split through the fast frozen phase's cache (`training.feature_cache`: same key rules,
same folder), so a map of a dataset a frozen run already trained on reuses its train and validation features, and
the other way round. TensorFlow is imported only here, inside functions, in the job process.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, fields
from typing import Callable

import numpy as np

from tlcore.backbones.probe import resolve_weights
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.datasets.health import split_dataset
from tlcore.datasets.scan import SPLIT_NAMES, scan_folder
from tlcore.datasets.settings import load_settings
from tlcore.datasets.split import Split
from tlcore.runs.fixed_split import fixed_split
from tlcore.runs.folders import get_run

__all__ = ["EXTRACT_BATCH", "EmbedConfig", "Embeddings", "compute_embeddings"]

EXTRACT_BATCH = 64


@dataclass
class EmbedConfig:
    """What to embed and how to draw it; JSON round-trip (task parameters, the CLI). `run` wins over `backbone`."""

    dataset: str
    backbone: str = "MobileNetV2"
    image_size: int = 96
    weights: str = WEIGHTS_IMAGENET  # "imagenet" (cached only) or "random" (only when asked)
    run: str | None = None  # a run id: its own model's pooled features and its fixed split
    method: str = "umap"  # umap, tsne or pca
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "EmbedConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class Embeddings:
    """Row i of `features` is the image `paths[i]` (relative to `root`), of class `labels[i]`, in split `splits[i]`."""

    root: str
    class_names: list[str]
    paths: list[str]
    labels: np.ndarray
    splits: list[str]
    features: np.ndarray


def _split_for(config: EmbedConfig) -> tuple[TrainConfig, Split, str]:
    if config.run:
        run = get_run(config.run)
        fixed = fixed_split(run)
        if fixed is None:
            raise ValueError(f"Run '{run.id}' has no split yet: map the dataset with a backbone instead.")
        if not run.model_path.exists():
            raise ValueError(f"Run '{run.id}' has no model.keras yet.")
        return run.config(), fixed.split, str(fixed.root)
    if config.weights not in (WEIGHTS_IMAGENET, WEIGHTS_RANDOM):
        raise ValueError(f"Unknown weights '{config.weights}': use 'imagenet' or 'random'.")
    resolve_weights(config.backbone, config.image_size, config.weights)  # WeightsUnavailable when not cached
    scan = scan_folder(config.dataset)
    settings = load_settings(config.dataset)
    train_config = TrainConfig(dataset=config.dataset, backbone=config.backbone, image_size=config.image_size,
                               weights=config.weights, fine_tune_at=None, split=settings.split)
    return train_config, split_dataset(scan, settings.split), str(scan.root)  # as training splits it


def _model(config: EmbedConfig, train_config: TrainConfig, class_count: int):
    import keras

    if config.run:
        from tlcore.layers.loading import load_model

        return load_model(get_run(config.run).model_path)
    from tlcore.modeling.model import build_model

    keras.utils.set_random_seed(train_config.split.seed)  # as training does: a random base is drawn from the seed
    return build_model(train_config, class_count)


def _key(config: EmbedConfig, train_config: TrainConfig, root, split_name: str, items) -> str:
    from tlcore.training.feature_cache import feature_key

    key = feature_key(train_config, root, split_name, items)
    if not config.run:
        return key  # exactly the fast frozen phase's key: shared cache
    from tlcore.backbones.fingerprint import file_fingerprint

    # a run's model changes with fine-tuning: its file's content is in the key
    content = file_fingerprint(get_run(config.run).model_path)
    model_id = hashlib.sha256(f"{config.run}|{content}".encode()).hexdigest()[:12]
    return f"run-{model_id}-{key}"


def compute_embeddings(config: EmbedConfig,
                       report: Callable[[float, str], None] = lambda fraction, message: None) -> Embeddings:
    """Features of the train, validation and test files (in that order), from the cache when present.

    Raises:
        WeightsUnavailable: ImageNet weights asked for but not cached.
        DatasetError / ValueError / KeyError: the dataset or run cannot be used (plain message).
    """
    from pathlib import Path

    from tlcore.datasets.pipeline import make_dataset
    from tlcore.training.feature_cache import cached_features

    train_config, split, root = _split_for(config)
    class_count = len(split.class_names)
    report(0.02, "building the feature extractor")
    model = _model(config, train_config, class_count)
    binary = class_count == 2  # as training makes its datasets, so a shared cache holds the same label shape
    parts, paths, labels, splits = [], [], [], []
    groups = [(name, getattr(split, name)) for name in SPLIT_NAMES if getattr(split, name)]
    for index, (name, items) in enumerate(groups):
        report(0.05 + 0.9 * index / len(groups), f"features of {len(items):,} {name} images")
        images = make_dataset(Path(root), items, train_config.image_size, EXTRACT_BATCH, binary)
        features = cached_features(model, images, _key(config, train_config, Path(root), name, items))
        parts.append(np.concatenate([batch.numpy() for batch, _ in features.batch(4096)]))
        paths += [path for path, _ in items]
        labels += [label for _, label in items]
        splits += [name] * len(items)
    report(0.95, "features done")
    return Embeddings(root, list(split.class_names), paths, np.asarray(labels, dtype=np.int64), splits,
                      np.concatenate(parts).astype(np.float32).reshape(len(paths), -1))
