"""One training phase, step by step: data → model → freeze → compile → fit → save → evaluate.

Runs inside a job process (`tlcore.worker`) or the CLI, never in the Streamlit server. Progress goes to the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlcore import checkpoints, feature_cache, unfreezing
from tlcore.config import TrainConfig
from tlcore.data import Split, find_bad_files, make_split, scan_folder
from tlcore.model import (base_of, build_model, compile_model, head_units, is_pretrained, keras_param_counts,
                          set_freeze, uses_one_hot_labels)
from tlcore.runs import Run, get_run

if TYPE_CHECKING:
    import keras

TENSORBOARD_FOLDER = "tensorboard"
PLATEAU_FACTOR = 0.5  # reduce-on-plateau halves the learning rate...
PLATEAU_PATIENCE = 2  # ...after this many epochs without improvement

def prepare_split(config: TrainConfig) -> tuple[Path, Split]:
    """Scan the folder, leave out unreadable images, and split as the config says."""
    scan = scan_folder(config.dataset)
    return scan.root, make_split(scan, config.split, excluded=find_bad_files(scan))


def load_or_build_model(run: Run, config: TrainConfig, class_count: int) -> tuple["keras.Model", list[dict]]:
    """Phase 1 builds a fresh model; a fine-tuning phase loads its parent's model and unfreezes from `fine_tune_at`."""
    import keras

    if not config.is_fine_tune:
        return build_model(config, class_count), []
    parent = get_run(config.parent_run)
    import tlcore.layers  # noqa: F401  (registers the preprocessing layer for loading)

    model = keras.saving.load_model(parent.model_path, safe_mode=True)
    set_freeze(base_of(model), config.fine_tune_at, is_pretrained(config))
    return model, parent.history()


def balanced_class_weights(labels: list[int], class_count: int) -> dict[int, float]:
    """scikit-learn's "balanced" weights (n_samples / (n_classes × count)); a class absent from `labels` gets 1."""
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(np.asarray(labels, dtype=np.int64))
    weights = compute_class_weight("balanced", classes=present, y=np.asarray(labels, dtype=np.int64))
    found = {int(label): float(weight) for label, weight in zip(present, weights)}
    return {label: found.get(label, 1.0) for label in range(class_count)}


def make_datasets(root: Path, split: Split, config: TrainConfig, batch_size: int, class_count: int):
    """Training and validation tf.data pipelines; one-hot labels when the loss needs them (see uses_one_hot_labels)."""
    import tensorflow as tf

    from tlcore.pipeline import make_dataset

    binary = head_units(class_count) == 1
    train_ds = make_dataset(root, split.train, config.image_size, batch_size, binary, shuffle=True,
                            seed=config.split.seed)
    val_ds = make_dataset(root, split.val, config.image_size, batch_size, binary) if split.val else None
    if uses_one_hot_labels(config, class_count):
        def one_hot(images, labels):
            return images, tf.one_hot(labels, class_count)

        train_ds = train_ds.map(one_hot)
        val_ds = val_ds.map(one_hot) if val_ds is not None else None
    return train_ds, val_ds


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
    from tlcore.callbacks import RunTensorBoard

    return RunTensorBoard(tensorboard_dir(run))


def tensorboard_dir(run: Run) -> Path:
    return run.path / TENSORBOARD_FOLDER


def set_precision(config: TrainConfig, gpu: bool) -> dict[str, bool]:
    """Mixed precision and XLA are GPU features: on the CPU they are left off (and the status says so)."""
    import keras

    mixed = config.mixed_precision and gpu
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    return {"mixed_precision_used": mixed, "xla_used": config.xla and gpu}


def train_run(run: Run) -> dict[str, Any]:
    """Train the run as its config says, writing everything into the run folder. Returns the final status fields."""
    import keras

    from tlcore.callbacks import RunProgress, save_model_atomic
    from tlcore.devices import gpu_visible_to_tensorflow, training_strategy
    from tlcore.fault_injection import fault_callbacks

    # 1. Data: the split (a fine-tuning phase reuses its parent's, so the test set stays the same).
    config = run.config()
    config.validate()
    run.update_status(phase="loading data")
    root, split = prepare_split(config)
    if config.is_fine_tune:
        parent_split = get_run(config.parent_run).split()
        split = parent_split or split  # fine-tuning evaluates on exactly the parent's test set
    run.write_split(split)
    class_count = len(split.class_names)

    # 2. Devices: one replica per GPU when there are several; the batch size in the form is per replica.
    precision = set_precision(config, gpu_visible_to_tensorflow())
    strategy = training_strategy()
    replicas = strategy.num_replicas_in_sync
    global_batch = config.batch_size * replicas
    keras.utils.set_random_seed(config.split.seed)
    train_ds, val_ds = make_datasets(root, split, config, global_batch, class_count)
    steps = -(-len(split.train) // global_batch)
    class_weight = balanced_class_weights([label for _, label in split.train], class_count) \
        if config.class_weights else None

    # 3. Model: build (or load the parent), freeze, compile — inside the strategy's scope.
    run.update_status(phase="building model")
    with strategy.scope():
        model, previous_history = load_or_build_model(run, config, class_count)
        compile_model(model, learning_rate_for(config, steps), class_count, config,
                      jit_compile=precision["xla_used"])
    counts = keras_param_counts(model)
    initial_epoch = int(previous_history[-1]["epoch"]) if previous_history else 0  # BackupAndRestore may move it on
    phase = int(previous_history[-1]["phase"]) + 1 if previous_history else 1
    history = checkpoints.history_to_continue(run, previous_history)  # a resumed phase keeps its own epochs
    run.update_status(phase="training", epochs=initial_epoch + config.epochs, first_epoch=initial_epoch + 1,
                      total_params=counts.total, trainable_params=counts.trainable,
                      non_trainable_params=counts.non_trainable, train_images=len(split.train),
                      excluded_files=len(split.excluded), replicas=replicas, global_batch_size=global_batch,
                      class_weight={str(k): round(v, 4) for k, v in (class_weight or {}).items()} or None,
                      **precision)

    # 4. Fit with Keras callbacks: progress + history + checkpoints, backups, TensorBoard, schedule, early stopping.
    fast = feature_cache.applies(config) and not uses_one_hot_labels(config, class_count) and replicas == 1
    progress = RunProgress(run, history, steps, phase, config.epochs, saved_model=model if fast else None)
    callbacks = [progress, checkpoints.backup_callback(run, phase), tensorboard_callback(run),
                 *schedule_callbacks(config, val_ds is not None), *fault_callbacks()]
    fit_options = dict(epochs=initial_epoch + config.epochs, initial_epoch=initial_epoch, callbacks=callbacks,
                       class_weight=class_weight, verbose=0)
    if config.gradual_unfreezing:  # stages of "unfreeze K more blocks, train, lower the rate", one phase each
        progress = unfreezing.train_stages(run, model, config, class_count, steps, train_ds, val_ds, history, phase,
                                           initial_epoch, class_weight)
    elif fast:  # whole base frozen, no augmentation: train the head on the base's features, computed once
        run.update_status(phase="computing features", fast_frozen_phase=True)
        feature_cache.fit_head_on_cached_features(model, config, root, split, head_units(class_count) == 1,
                                                  **fit_options)
    else:
        model.fit(train_ds, validation_data=val_ds, **fit_options)
    if not run.model_path.exists() or (config.early_stopping_patience and config.restore_best):
        save_model_atomic(model, run.model_path)  # cancelled in epoch 1, or the best epoch's weights restored

    # 5. Evaluate on the test split (validation when there is none).
    run.update_status(phase="evaluating")
    from tlcore.evaluate import evaluate_model

    split_name, test_items = split.held_out
    report = evaluate_model(model, root, test_items, split.class_names, config.image_size, split_name=split_name,
                            run=run)
    return {"cancelled": progress.cancelled, "test_accuracy": report["accuracy"]}
