"""A training session: what every fit of one job shares, set up once, as fastai's `Learner` holds it.

Devices and the global batch, the seed, the model built inside the strategy's scope, the class weights, compiling,
and the standard callbacks of a run (backup, TensorBoard, schedule, fault injection) exist here once. Every caller
composes it: phase 1 (`training.phase.train_run`) is open → compile → fit; gradual unfreezing
(`training.unfreezing.train_stages`) is a loop of freeze → compile → fit; the LR finder is open → compile → fit with
one callback. Sweeps are ordinary jobs, so each of their runs goes through `train_run` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from tlcore.config.training import TrainConfig
from tlcore.datasets.health import Report
from tlcore.datasets.split import Split
from tlcore.modeling.model import build_model
from tlcore.runs.folders import Run
from tlcore.training import checkpoints
from tlcore.training.devices import TrainingDevices, prepare_devices
from tlcore.training.fault_injection import fault_callbacks
from tlcore.training.fit import (
    balanced_class_weights,
    fit,
    learning_rate_for,
    schedule_callbacks,
    tensorboard_callback,
    uses_fast_path,
)

if TYPE_CHECKING:
    import keras

__all__ = ["TrainingSession"]


@dataclass
class TrainingSession:
    """One job's model on its split, on the devices decided at its start.

    `run` is None for a fit that writes no run folder (the LR finder): it then has no standard callbacks. With a run,
    every fit reports its progress there (`RunProgress`: status.json, history.csv, Cancel) and `history` and
    `cancelled` follow it.
    """

    config: TrainConfig
    root: Path
    split: Split
    devices: TrainingDevices
    model: "keras.Model"
    run: Run | None = None
    class_weight: dict[int, float] | None = None
    history: list[dict] = field(default_factory=list)  # history.csv's rows so far: earlier phases, this one's epochs
    cancelled: bool = False  # Cancel stopped the last fit

    @classmethod
    def open(cls, config: TrainConfig, root: Path, split: Split, *, run: Run | None = None,
             build: Callable[[], "keras.Model"] | None = None, weigh_classes: bool = True) -> "TrainingSession":
        """Decide the devices, seed everything, and build the model (default `build_model`) in the strategy's scope.

        Args:
            build: makes the model (a fine-tuning phase loads its parent's); called inside the strategy's scope.
            weigh_classes: False leaves out the config's balanced class weights (the LR finder reads raw losses).
        """
        import keras

        devices = prepare_devices(config)  # the dtype policy is set before any model is built
        keras.utils.set_random_seed(config.split.seed)
        class_count = len(split.class_names)
        with devices.strategy.scope():
            model = build() if build is not None else build_model(config, class_count)
        class_weight = balanced_class_weights([label for _, label in split.train], class_count) \
            if weigh_classes and config.class_weights else None
        return cls(config, root, split, devices, model, run, class_weight)

    @property
    def class_count(self) -> int:
        return len(self.split.class_names)

    @property
    def global_batch(self) -> int:
        """The batch of every step: the form's batch size is per replica."""
        return self.devices.global_batch(self.config.batch_size)

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.split.train) // self.global_batch)

    @property
    def fast(self) -> bool:
        """Whole base frozen and no augmentation: the head trains on the base's cached features (same result)."""
        return uses_fast_path(self.config, self.class_count)

    def compile(self, config: TrainConfig | None = None, learning_rate=None) -> None:
        """(Re)compile in the strategy's scope: after a freeze changes, with a stage's own config or a fixed rate."""
        config = config or self.config
        rate = learning_rate if learning_rate is not None else learning_rate_for(config, self.steps_per_epoch)
        self.devices.compile(self.model, rate, self.class_count, config)

    def standard_callbacks(self, phase: int, epochs_in_phase: int, config: TrainConfig | None = None) -> list:
        """The callbacks every fit of a run has, in this order: progress (status.json, history.csv, Cancel), the
        per-epoch backup (weights only: all a resume needs), TensorBoard, the learning-rate schedule and early
        stopping, and the test suite's fault injection. None without a run."""
        if self.run is None:
            return []
        from tlcore.training.callbacks import RunProgress

        config = config or self.config
        progress = RunProgress(self.run, self.history, self.steps_per_epoch, phase, epochs_in_phase)
        return [progress, checkpoints.backup_callback(self.run, phase), tensorboard_callback(self.run),
                *schedule_callbacks(config, bool(self.split.val)), *fault_callbacks()]

    def fit(self, epochs: int, extra_callbacks: Sequence = (), *, phase: int = 1,
            config: TrainConfig | None = None, initial_epoch: int = 0, fast: bool = False,
            steps_per_epoch: int | None = None, validate: bool = True,
            report: Report | None = None) -> "keras.callbacks.History":
        """Fit up to epoch `epochs` (Keras counts across phases, from `initial_epoch`) with the standard callbacks
        and `extra_callbacks`; then `history` and `cancelled` say where the run is."""
        config = config or self.config
        standard = self.standard_callbacks(phase, epochs - initial_epoch, config)
        result = fit(self.model, config, self.root, self.split, self.class_count, epochs=epochs,
                     initial_epoch=initial_epoch, callbacks=[*standard, *extra_callbacks],
                     batch_size=self.global_batch, class_weight=self.class_weight, fast=fast,
                     steps_per_epoch=steps_per_epoch, validate=validate, report=report)
        if standard:
            progress = standard[0]
            self.history, self.cancelled = progress.history_rows, progress.cancelled
        return result
