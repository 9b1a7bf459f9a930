"""Keras callbacks that report a job's progress into its run folder (imported only inside job processes)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import numpy as np

from tlcore.runs.folders import Run

__all__ = ["PROGRESS_INTERVAL_S", "BACKUP_STATE_FILE", "RunProgress", "ChangingStateBackup", "save_model_atomic",
           "RunTensorBoard"]

PROGRESS_INTERVAL_S = 0.5
BACKUP_STATE_FILE = "state.npz"


class RunProgress(keras.callbacks.Callback):
    """Writes status.json (throttled) and history.csv (each epoch), and honours Cancel.

    Cancel is a file (`cancel.request`) the page drops into the run folder; training stops after the current batch.
    The model is not saved here: each epoch's weights go to the backup (`checkpoints.backup_callback`, all a resume
    needs), and the full model.keras is saved once when the job's training ends (`training.phase.train_run`).
    """

    def __init__(self, run: Run, previous_history: list[dict], steps_per_epoch: int, phase: int, epochs_in_phase: int):
        super().__init__()
        self.run = run
        self.history_rows = list(previous_history)
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.phase = phase
        self.epochs_in_phase = epochs_in_phase
        self.cancelled = False
        self.batches_done = 0  # by this process: a resumed phase's earlier epochs took no time here
        self.batches_in_epoch = 0
        self.epoch = 0  # 0-based, as Keras numbers them (across phases)
        self.last_epoch: int | None = None  # the `epochs` fit was called with: this fit stops before it
        self.last_write = 0.0
        self.started = self.epoch_started = time.monotonic()

    def on_train_begin(self, logs=None):
        self.last_epoch = (self.params or {}).get("epochs")
        self.batches_done = 0
        self.started = time.monotonic()  # the clock of the ETA starts with training, not with the data or model

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.epoch_started = time.monotonic()
        self.batches_in_epoch = 0
        self.last_write = 0.0  # the epoch's first batch is always written: the page (and a test) see the epoch begin
        self.run.update_status(phase="training", epoch=epoch + 1, batch=0, batches=self.steps_per_epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.batches_done += 1
        self.batches_in_epoch += 1
        if self.run.cancel_path.exists():
            self.cancelled = True
            self.model.stop_training = True
        now = time.monotonic()
        if now - self.last_write >= PROGRESS_INTERVAL_S:
            self.last_write = now
            self.run.update_status(batch=batch + 1, eta_seconds=self._eta(now), batch_metrics=_floats(logs))

    def on_epoch_end(self, epoch, logs=None):
        logs = _floats(logs)
        if self.cancelled and self.batches_in_epoch < self.steps_per_epoch:
            return  # an epoch cut short by Cancel is not a completed epoch in the history (its model is kept)
        row = {"epoch": epoch + 1, "phase": self.phase, "seconds": round(time.monotonic() - self.epoch_started, 3),
               "learning_rate": _learning_rate(self.model), **logs}
        self.history_rows.append(row)
        self.run.write_history(self.history_rows)
        self.run.update_status(epochs_done=epoch + 1, val_accuracy=logs.get("val_accuracy"),
                               val_loss=logs.get("val_loss"), eta_seconds=self._eta(time.monotonic()))

    def _eta(self, now: float) -> float:
        """Seconds left in this fit: the batches still to run × the mean time per batch this process has trained.

        Counted from where training is (the epoch BackupAndRestore resumed at), not from the phase's first epoch.
        """
        per_batch = (now - self.started) / max(1, self.batches_done)
        if self.last_epoch is None:  # called outside fit: the whole phase, as far as this process knows
            remaining = self.epochs_in_phase * self.steps_per_epoch - self.batches_done
        else:
            later_epochs = self.last_epoch - self.epoch - 1
            remaining = later_epochs * self.steps_per_epoch + self.steps_per_epoch - self.batches_in_epoch
        return round(per_batch * max(0, remaining), 1)


def _floats(logs) -> dict[str, float]:
    return {key: float(value) for key, value in (logs or {}).items()}


def _learning_rate(model) -> float:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - schedules or unusual optimizers: the column is informative only
        return float("nan")


def save_model_atomic(model: keras.Model, path: Path) -> None:
    """Save next to the target, then rename over it: a reader never loads a half-written model."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    tmp.replace(path)


class RunTensorBoard(keras.callbacks.TensorBoard):
    """Keras's TensorBoard callback writing epoch scalars into the run folder (`tensorboard --logdir` opens them).

    Keras calls `tf.summary.scalar`, which the `tensorboard` package implements; TensorFlow 2.21 no longer installs
    that package. Without it, scalars are written with TensorFlow's own `tf.summary.write` and the scalar plugin's
    metadata, as the package itself does, so training never depends on TensorBoard being installed.
    """

    def __init__(self, log_dir: Path):
        super().__init__(log_dir=str(log_dir), write_graph=False, update_freq="epoch", profile_batch=0)

    @property
    def summary(self):
        return _summary_api()

    def on_train_batch_end(self, batch, logs=None):
        """Nothing per batch: the logs are per epoch (no graph, no profiler), yet Keras 3.15's callback makes one
        summary call per metric per batch anyway (a tensor each, written nowhere): a few ms a batch, skipped."""


def _summary_api():
    import tensorflow as tf

    try:
        import tensorboard  # noqa: F401
    except ImportError:
        from types import SimpleNamespace

        return SimpleNamespace(create_file_writer=tf.summary.create_file_writer, record_if=tf.summary.record_if,
                               scalar=_scalar_without_tensorboard)
    return tf.summary


def _scalar_without_tensorboard(name, data, step=None, description=None):
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        summary_description=description or "",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    return tf.summary.write(name, tf.cast(data, tf.float32), step=step, metadata=metadata)


class ChangingStateBackup(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore (the epoch in training_metadata.json, restored when `fit` starts), saving only the
    state training can change: trainable weights, the optimizer's state, the other variables of layers that train
    (BatchNorm's statistics from random weights) and every random generator's state (augmentation, dropout).

    A frozen layer's weights are what a resumed job builds again (the same base file and seed, or the same parent
    model, frozen the same way), so saving them every epoch bought nothing: with Keras's `save_weights` it cost
    2–5 s per epoch for MobileNetV2 at 32 px on a loaded machine (9.5 MB of h5, one dataset per variable), against
    0.04 s for the head's state as one .npz. The file is written beside its target and renamed, so a kill mid-write
    leaves the previous epoch's. A backup in Keras's own format (an older run) still restores through Keras.
    """

    def __init__(self, backup_dir: str):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=False)
        self._state_path = os.path.join(backup_dir, BACKUP_STATE_FILE)

    def _changing_variables(self) -> list:
        """The model's variables a fit can change, then the optimizer's, in a fixed order: every variable but the
        weights of frozen layers (their random generators' states stay in) and the metrics' running totals."""
        model = self.model
        left_out = {id(variable) for metric in model.metrics for variable in metric.variables}
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if not layer.trainable:
                left_out.update(id(variable) for variable in layer.weights)  # `weights` has no generator states
        variables = [variable for variable in model.variables if id(variable) not in left_out]
        if model.optimizer is not None:
            if not model.optimizer.built:  # its slots exist before they are saved or restored
                model.optimizer.build(model.trainable_variables)
            variables += list(model.optimizer.variables)
        return variables

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        arrays = [keras.ops.convert_to_numpy(variable) for variable in self._changing_variables()]
        partial = f"{self._state_path}.partial"
        with open(partial, "wb") as handle:
            np.savez(handle, *arrays)
        os.replace(partial, self._state_path)
        metadata = f"{self._training_metadata_path}.partial"
        with open(metadata, "w", encoding="utf-8") as handle:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, handle)
        os.replace(metadata, self._training_metadata_path)

    def _load_model(self):
        if os.path.exists(self._state_path):
            variables = self._changing_variables()
            with np.load(self._state_path) as saved:
                arrays = [saved[f"arr_{index}"] for index in range(len(saved.files))]
            if [tuple(array.shape) for array in arrays] != [tuple(variable.shape) for variable in variables]:
                raise ValueError(f"The backup in {self.backup_dir} belongs to another model or freeze depth; delete "
                                 "that folder to start this phase again.")
            for variable, array in zip(variables, arrays):
                variable.assign(array)
        super()._load_model()  # the epoch to go on from (and the weights of a backup in Keras's own format)
