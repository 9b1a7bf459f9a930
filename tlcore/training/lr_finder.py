"""Learning-rate finder: train briefly while the learning rate grows exponentially, and suggest a rate from the curve.

As in Smith (2015) and fastai's `lr_find`: the loss is smoothed, the sweep stops once the loss explodes, and the
suggestion is the rate where the smoothed loss falls fastest (steepest slope against log learning rate), which sits
safely below the minimum. Runs as a background task (`lr_finder`) on the current Train-page config, on the devices,
precision and global batch a training job would use (tlcore.training.devices), so the rate suits that training.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from tlcore.config.training import TrainConfig
from tlcore.training import feature_cache
from tlcore.training.fit import prepare_split
from tlcore.training.session import TrainingSession

__all__ = ["SMOOTHING", "DIVERGENCE_FACTOR", "sweep_rates", "smooth", "suggest_learning_rate", "lr_finder_task"]

MIN_LR, MAX_LR, STEPS = 1e-6, 1.0, 60
SMOOTHING = 0.9  # exponential moving average of the loss (with bias correction)
DIVERGENCE_FACTOR = 4.0  # stop when the smoothed loss is this many times its best


def sweep_rates(min_lr: float = MIN_LR, max_lr: float = MAX_LR, steps: int = STEPS) -> np.ndarray:
    return np.geomspace(min_lr, max_lr, steps)


def smooth(losses: list[float], beta: float = SMOOTHING) -> list[float]:
    average, smoothed = 0.0, []
    for step, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta ** step))
    return smoothed


def suggest_learning_rate(rates: list[float], smoothed: list[float]) -> float:
    """The rate of steepest descent of the smoothed loss, looked for before the loss minimum."""
    if len(rates) < 3:
        raise ValueError("The sweep stopped after fewer than three steps: no rate can be suggested.")
    lowest = int(np.argmin(smoothed))
    end = max(lowest, 2)
    slopes = np.gradient(np.asarray(smoothed[:end + 1]), np.log10(np.asarray(rates[:end + 1])))
    return float(rates[int(np.argmin(slopes))])


def lr_finder_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task `lr_finder`: params {"config": TrainConfig dict, optional "min_lr", "max_lr", "steps"}."""
    config = TrainConfig.from_dict(params["config"])  # checked here as loaded, and when submitted (jobs.submit_task)
    rates = sweep_rates(float(params.get("min_lr", MIN_LR)), float(params.get("max_lr", MAX_LR)),
                        int(params.get("steps", STEPS)))
    report(0.0, "loading data")
    root, split = prepare_split(config)
    report(0.05, "building the model")
    # the form's optimizer, at a constant rate the sweep sets itself; integer labels, so no label smoothing
    sweep_config = replace(config, lr_schedule="constant", label_smoothing=0.0)
    session = TrainingSession.open(sweep_config, root, split, weigh_classes=False)
    session.compile(learning_rate=float(rates[0]))
    if feature_cache.applies(config):
        report(0.1, "computing the base's features")
    sweep = _make_sweep_class()(rates, report)
    # full batches only, so each batch's own loss can be read back from Keras' running mean of the epoch;
    # a frozen base sweeps only the head, on the cached features (much faster)
    session.fit(1, [sweep], steps_per_epoch=len(rates), fast=session.fast, validate=False)
    devices = session.devices
    smoothed = smooth(sweep.losses)
    tried = [float(rate) for rate in rates[:len(sweep.losses)]]
    return {"learning_rates": tried, "losses": sweep.losses, "smoothed": smoothed,
            "suggested": suggest_learning_rate(tried, smoothed), "backbone": config.backbone,
            "image_size": config.image_size, "batch_size": config.batch_size, "stopped_early": sweep.diverged,
            "replicas": devices.replicas, "global_batch_size": devices.global_batch(config.batch_size)}


def _make_sweep_class():
    import keras

    class Sweep(keras.callbacks.Callback):
        """Sets the rate before each batch, records the loss after it, stops when the loss explodes."""

        def __init__(self, rates, report):
            super().__init__()
            self.rates, self.report = rates, report
            self.losses: list[float] = []
            self.previous_mean = 0.0
            self.best = math.inf
            self.diverged = False

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = float(self.rates[batch])

        def on_train_batch_end(self, batch, logs=None):
            running_mean = float(logs["loss"])  # Keras reports the mean over the epoch so far
            loss = (batch + 1) * running_mean - batch * self.previous_mean
            self.previous_mean = running_mean
            self.losses.append(loss)
            smoothed = smooth(self.losses)[-1]
            self.best = min(self.best, smoothed)
            self.report(0.1 + 0.9 * (batch + 1) / len(self.rates), f"rate {self.rates[batch]:.2e}: loss {loss:.3f}")
            if not math.isfinite(loss) or smoothed > DIVERGENCE_FACTOR * self.best:
                self.diverged = True
                self.model.stop_training = True

    return Sweep
