"""One training phase, step by step: data → model → freeze → compile → fit → save → evaluate.

Runs inside a job process (`tlcore.worker`) or the CLI, never in the Streamlit server. Progress goes to the run folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tlcore.config.training import TrainConfig
from tlcore.evaluation.metrics import evaluate_model
from tlcore.layers.loading import load_model
from tlcore.modeling.model import (
    base_in_inference_mode,
    base_of,
    build_model,
    is_pretrained,
    keras_param_counts,
    set_freeze,
)
from tlcore.runs.fixed_split import fixed_split
from tlcore.runs.folders import Run, get_run
from tlcore.training import checkpoints, unfreezing
from tlcore.training.devices import prepare_devices
from tlcore.training.fault_injection import fault_callbacks
from tlcore.training.fit import (
    balanced_class_weights,
    fit,
    learning_rate_for,
    prepare_split,
    schedule_callbacks,
    tensorboard_callback,
    uses_fast_path,
)

if TYPE_CHECKING:
    import keras

__all__ = ["load_or_build_model", "train_run"]


def load_or_build_model(run: Run, config: TrainConfig, class_count: int) -> tuple["keras.Model", list[dict]]:
    """Phase 1 builds a fresh model; a fine-tuning phase loads its parent's model and unfreezes from `fine_tune_at`."""

    if not config.is_fine_tune:
        return build_model(config, class_count), []
    parent = get_run(config.parent_run)
    model = load_model(parent.model_path)
    if is_pretrained(config):  # a run saved before the base was wrapped gets it now: its statistics stay as they are
        model = base_in_inference_mode(model)
    set_freeze(base_of(model), config.fine_tune_at, is_pretrained(config))
    return model, parent.history()


def _step_report(run: Run, phase: str):
    """`report(fraction, message)` of a long step into status.json (`step`, read by `tlcore.runs.job_progress`);
    the step throttles itself (tlcore.datasets.health.throttled)."""

    def report(fraction: float, message: str) -> None:
        run.update_status(step={"phase": phase, "fraction": round(float(fraction), 4), "message": message})

    return report


def train_run(run: Run) -> dict[str, Any]:
    """Train the run as its config says, writing everything into the run folder. Returns the final status fields."""
    import keras

    from tlcore.training.callbacks import RunProgress, save_model_atomic

    # 1. Data: the split, fixed when the run started (a resume keeps its own, a fine-tuning phase its parent's).
    config = run.config()  # checked when it was loaded (tlcore.config.load_config) and when it was submitted
    run.update_status(phase="loading data")
    fixed = fixed_split(run)
    root, split = (fixed.root, fixed.split) if fixed else prepare_split(config, _step_report(run, "loading data"))
    changes = fixed.changes if fixed else None
    if changes:
        print(changes.message(), flush=True)  # worker.log; the banner and the CLI show it from status.json
    run.write_split(split)
    run.update_status(dataset_changes=changes.summary() if changes else None)
    class_count = len(split.class_names)

    # 2. Devices: one replica per GPU when there are several; the batch size in the form is per replica. Decided
    #    once: every compile and fit of this job (each gradual stage, the fast phase's head) uses the same ones.
    devices = prepare_devices(config)
    global_batch = devices.global_batch(config.batch_size)
    keras.utils.set_random_seed(config.split.seed)
    steps = -(-len(split.train) // global_batch)
    class_weight = balanced_class_weights([label for _, label in split.train], class_count) \
        if config.class_weights else None

    # 3. Model: build (or load the parent), freeze, compile — inside the strategy's scope.
    run.update_status(phase="building model")
    with devices.strategy.scope():
        model, previous_history = load_or_build_model(run, config, class_count)
    devices.compile(model, learning_rate_for(config, steps), class_count, config)
    counts = keras_param_counts(model)
    initial_epoch = int(previous_history[-1]["epoch"]) if previous_history else 0  # BackupAndRestore may move it on
    phase = int(previous_history[-1]["phase"]) + 1 if previous_history else 1
    history = checkpoints.history_to_continue(run, previous_history)  # a resumed phase keeps its own epochs
    run.update_status(phase="training", epochs=initial_epoch + config.epochs, first_epoch=initial_epoch + 1,
                      total_params=counts.total, trainable_params=counts.trainable,
                      non_trainable_params=counts.non_trainable, train_images=len(split.train),
                      excluded_files=len(split.excluded), global_batch_size=global_batch,
                      class_weight={str(k): round(v, 4) for k, v in (class_weight or {}).items()} or None,
                      **devices.status(model))

    # 4. Fit with Keras callbacks: progress + history + checkpoints, backups, TensorBoard, schedule, early stopping.
    fast = uses_fast_path(config, class_count)
    progress = RunProgress(run, history, steps, phase, config.epochs, saved_model=model if fast else None)
    callbacks = [progress, checkpoints.backup_callback(run, phase), tensorboard_callback(run),
                 *schedule_callbacks(config, bool(split.val)), *fault_callbacks()]
    if config.gradual_unfreezing:  # stages of "unfreeze K more blocks, train, lower the rate", one phase each
        progress = unfreezing.train_stages(run, model, devices, config, root, split, class_count, steps, history,
                                           phase, initial_epoch, class_weight)
    else:
        if fast:  # whole base frozen, no augmentation: the head trains on the base's features, computed once
            run.update_status(phase="computing features", fast_frozen_phase=True)  # on every replica, as the plain path
        fit(model, config, root, split, class_count, epochs=initial_epoch + config.epochs, initial_epoch=initial_epoch,
            callbacks=callbacks, batch_size=global_batch, class_weight=class_weight, fast=fast,
            report=_step_report(run, "computing features"))
    if not run.model_path.exists() or (config.early_stopping_patience and config.restore_best):
        save_model_atomic(model, run.model_path)  # cancelled in epoch 1, or the best epoch's weights restored

    # 5. Evaluate on the test split (validation when there is none).
    run.update_status(phase="evaluating")

    split_name, test_items = split.held_out
    report = evaluate_model(model, root, test_items, split.class_names, config.image_size, split_name=split_name,
                            run=run, progress=lambda done, total: run.update_status(evaluated_images=done,
                                                                                  images_to_evaluate=total))
    return {"cancelled": progress.cancelled, "test_accuracy": report["accuracy"]}
