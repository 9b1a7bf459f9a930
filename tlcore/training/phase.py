"""One training phase, step by step: data → session (devices, seed, model) → compile → fit → save the model.

Runs inside a job process (`tlcore.worker`) or the CLI, never in the Streamlit server. Progress goes to the run folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlcore.config.training import TrainConfig
from tlcore.layers.loading import load_model
from tlcore.modeling.model import (
    base_in_inference_mode,
    base_of,
    build_model,
    is_pretrained,
    keras_param_counts,
    set_freeze,
)
from tlcore.runs.fixed_split import split_for_run
from tlcore.runs.folders import Run, get_run
from tlcore.training import checkpoints, unfreezing
from tlcore.training.finish import Trained
from tlcore.training.session import TrainingSession

if TYPE_CHECKING:
    import keras

__all__ = ["load_or_build_model", "train_run"]


def load_or_build_model(config: TrainConfig, class_count: int) -> "keras.Model":
    """Phase 1 builds a fresh model; a fine-tuning phase loads its parent's model and unfreezes from `fine_tune_at`."""
    if not config.is_fine_tune:
        return build_model(config, class_count)
    model = load_model(get_run(config.parent_run).model_path)
    if is_pretrained(config):  # a run saved before the base was wrapped gets it now: its statistics stay as they are
        model = base_in_inference_mode(model)
    set_freeze(base_of(model), config.fine_tune_at, is_pretrained(config))
    return model


def _earlier_phases(config: TrainConfig) -> list[dict]:
    """The history a fine-tuning phase continues (its parent's rows); none for phase 1."""
    return get_run(config.parent_run).history() if config.is_fine_tune else []


def _step_report(run: Run, phase: str):
    """`report(fraction, message)` of a long step into status.json (`step`, read by `tlcore.runs.job_progress`);
    the step throttles itself (tlcore.datasets.health.throttled)."""

    def report(fraction: float, message: str) -> None:
        run.update_status(step={"phase": phase, "fraction": round(float(fraction), 4), "message": message})

    return report


def train_run(run: Run) -> Trained:
    """Train the run as its config says, writing progress into the run folder, and save the model.

    What follows (evaluate, calibrate, model card, notify) is the job's own table of steps (`training.finish`).
    """
    from tlcore.training.callbacks import save_model_atomic

    # 1. Data: the split, fixed when the run started (a resume keeps its own, a fine-tuning phase its parent's).
    config = run.config()  # checked when it was loaded (tlcore.config.load_config) and when it was submitted
    run.update_status(phase="loading data")
    chosen = split_for_run(run, _step_report(run, "loading data"))
    root, split, changes = chosen.root, chosen.split, chosen.changes
    if changes:
        print(changes.message(), flush=True)  # worker.log; the banner and the CLI show it from status.json
    run.write_split(split)
    run.update_status(dataset_changes=changes.summary() if changes else None)
    class_count = len(split.class_names)

    # 2. Session: devices (one replica per GPU; the form's batch size is per replica), seed, model built (or the
    #    parent loaded and unfrozen) in the strategy's scope — decided once for every compile and fit of this job.
    run.update_status(phase="building model")
    session = TrainingSession.open(config, root, split, run=run, build=lambda: load_or_build_model(config, class_count))
    model = session.model
    session.compile()
    counts = keras_param_counts(model)
    previous_history = _earlier_phases(config)
    initial_epoch = int(previous_history[-1]["epoch"]) if previous_history else 0  # BackupAndRestore may move it on
    phase = int(previous_history[-1]["phase"]) + 1 if previous_history else 1
    session.history = checkpoints.history_to_continue(run, previous_history)  # a resumed phase keeps its epochs
    run.update_status(phase="training", epochs=initial_epoch + config.epochs, first_epoch=initial_epoch + 1,
                      total_params=counts.total, trainable_params=counts.trainable,
                      non_trainable_params=counts.non_trainable, train_images=len(split.train),
                      excluded_files=len(split.excluded), global_batch_size=session.global_batch,
                      class_weight={str(k): round(v, 4) for k, v in (session.class_weight or {}).items()} or None,
                      **session.devices.status(model))

    # 3. Fit, with the session's standard callbacks (progress, backup, TensorBoard, schedule).
    if config.gradual_unfreezing:  # stages of "unfreeze K more blocks, train, lower the rate", one phase each
        unfreezing.train_stages(session, phase, initial_epoch)
    else:
        fast = session.fast
        if fast:  # whole base frozen, no augmentation: the head trains on the base's features, computed once
            run.update_status(phase="computing features", fast_frozen_phase=True)  # on every replica, as the plain path
        session.fit(initial_epoch + config.epochs, phase=phase, initial_epoch=initial_epoch, fast=fast,
                    report=_step_report(run, "computing features"))

    # 4. The full model, once (each epoch backed up only its weights, which is all a resume needs).
    save_model_atomic(model, run.model_path)
    return Trained(run, config, model, root, split, cancelled=session.cancelled)
