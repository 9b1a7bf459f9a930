"""The one fit path: phase 1, every gradual-unfreezing stage, the fast frozen phase and the LR finder call `fit`.

What varies between them is passed in (callbacks, epochs, steps, batch size), as fastai's `fine_tune` composes
`fit`. The helpers around it (split, data, learning rate, schedule, TensorBoard) are the shared steps. A model trains
under the strategy it was built in (`keras.Model.distribute_strategy`; see tlcore.training.devices).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tlcore.config.training import TrainConfig
from tlcore.datasets.health import Report, split_dataset
from tlcore.datasets.pipeline import make_dataset
from tlcore.datasets.scan import scan_folder
from tlcore.datasets.split import Split
from tlcore.modeling.model import head_units, uses_one_hot_labels
from tlcore.runs.folders import Run
from tlcore.training import feature_cache

if TYPE_CHECKING:
    import keras

__all__ = [
    "fit", "uses_fast_path", "TENSORBOARD_FOLDER", "PLATEAU_FACTOR", "PLATEAU_PATIENCE", "prepare_split",
    "balanced_class_weights", "make_datasets", "learning_rate_for", "schedule_callbacks", "tensorboard_callback",
    "tensorboard_dir"
]


TENSORBOARD_FOLDER = "tensorboard"

PLATEAU_FACTOR = 0.5  # reduce-on-plateau halves the learning rate...

PLATEAU_PATIENCE = 2  # ...after this many epochs without improvement


def prepare_split(config: TrainConfig, report: Report | None = None) -> tuple[Path, Split]:
    """Scan the folder and split it as the config says, through the one split builder (unreadable images left out).

    `report(fraction, message)` follows the check of every image (a fresh folder decodes them all once).
    """
    scan = scan_folder(config.dataset)
    return scan.root, split_dataset(scan, config.split, report)


def balanced_class_weights(labels: list[int], class_count: int) -> dict[int, float]:
    """scikit-learn's "balanced" weights (n_samples / (n_classes × count)); a class absent from `labels` gets 1."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(np.asarray(labels, dtype=np.int64))
    weights = compute_class_weight("balanced", classes=present, y=np.asarray(labels, dtype=np.int64))
    found = {int(label): float(weight) for label, weight in zip(present, weights)}
    return {label: found.get(label, 1.0) for label in range(class_count)}


def make_datasets(root: Path, split: Split, config: TrainConfig, batch_size: int, class_count: int,
                  repeat: bool = False):
    """Training and validation tf.data pipelines; one-hot labels when the loss needs them (see uses_one_hot_labels).

    `repeat`: the training images loop forever in full batches (for a fit measured in steps, as the LR finder's).
    """
    import tensorflow as tf

    binary = head_units(class_count) == 1
    train_ds = make_dataset(root, split.train, config.image_size, batch_size, binary, shuffle=True,
                            seed=config.split.seed)
    if repeat:
        train_ds = train_ds.unbatch().repeat().batch(batch_size)
    val_ds = make_dataset(root, split.val, config.image_size, batch_size, binary) if split.val else None
    if uses_one_hot_labels(config, class_count):
        def one_hot(images, labels):
            return images, tf.one_hot(labels, class_count)

        train_ds = train_ds.map(one_hot)
        val_ds = val_ds.map(one_hot) if val_ds is not None else None
    return train_ds, val_ds


def uses_fast_path(config: TrainConfig, class_count: int) -> bool:
    """Whole base frozen and no augmentation: the head can train on the base's features, computed once."""
    return feature_cache.applies(config) and not uses_one_hot_labels(config, class_count)


def fit(model: "keras.Model", config: TrainConfig, root: Path, split: Split, class_count: int, *, epochs: int,
        callbacks: list, initial_epoch: int = 0, batch_size: int | None = None, class_weight: dict | None = None,
        fast: bool = False, steps_per_epoch: int | None = None,
        validate: bool = True, report: Report | None = None) -> "keras.callbacks.History":
    """Train `model` (compiled) on the split's training images, validating on its validation images.

    Args:
        fast: train only the head, on the frozen base's cached features (see `uses_fast_path`); same result.
        steps_per_epoch: a fit measured in steps: the training images repeat in full batches.
        validate: False skips the validation images (the LR finder reads only training losses).
        report: `report(fraction, message)` while the fast path computes features ("computing features 640/2,000").
    """
    batch_size = batch_size or config.batch_size
    options = dict(epochs=epochs, initial_epoch=initial_epoch, callbacks=callbacks, class_weight=class_weight,
                   steps_per_epoch=steps_per_epoch, verbose=0)
    if fast:  # the head model is built and compiled here: inside the scope of the strategy the model was built in
        with model.distribute_strategy.scope():
            return feature_cache.fit_head_on_cached_features(
                model, config, root, split if validate else replace(split, val=[]), head_units(class_count) == 1,
                batch_size=batch_size, repeat=steps_per_epoch is not None, report=report, **options)
    train_ds, val_ds = make_datasets(root, split, config, batch_size, class_count, repeat=steps_per_epoch is not None)
    return model.fit(train_ds, validation_data=val_ds if validate else None, **options)


def learning_rate_for(config: TrainConfig, steps_per_epoch: int):
    """A float, or a cosine decay to 0 over this phase's steps."""
    import keras

    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps_per_epoch * config.epochs)
    return config.learning_rate


def schedule_callbacks(config: TrainConfig, has_validation: bool) -> list:
    """Reduce-on-plateau and early stopping, watching val_loss (training loss when there is no validation split)."""
    import keras

    monitor = "val_loss" if has_validation else "loss"
    callbacks = []
    if config.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=PLATEAU_FACTOR,
                                                           patience=PLATEAU_PATIENCE,
                                                           min_lr=config.learning_rate / 100))
    if config.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=config.early_stopping_patience,
                                                       restore_best_weights=config.restore_best))
    return callbacks


def tensorboard_callback(run: Run):
    """TensorBoard logs in the run folder: `tensorboard --logdir <run>/tensorboard` opens them."""
    from tlcore.training.callbacks import RunTensorBoard

    return RunTensorBoard(tensorboard_dir(run))


def tensorboard_dir(run: Run) -> Path:
    return run.path / TENSORBOARD_FOLDER
