"""Temperature scaling (Guo et al., 2017): the one temperature T that minimises the log loss of softmax(z / T) on
held-back images, found with scipy's bounded scalar minimiser over log T.

A binary head's single logit z is the two-class logits [0, z] (tlcore.inference.calibrated.class_logits), so one
formula serves softmax and sigmoid heads alike.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tlcore.inference.calibrated import class_logits

__all__ = ["MIN_TEMPERATURE", "MAX_TEMPERATURE", "TemperatureFit", "log_loss", "fit_temperature"]

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0


@dataclass(frozen=True)
class TemperatureFit:
    temperature: float
    images: int
    log_loss_before: float | None  # at T = 1
    log_loss_after: float | None
    note: str = ""  # why the temperature was left at 1, when it was

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def log_loss(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean −log softmax(z / T)[true class], computed from logits (no probability is rounded to 0 or 1 first)."""
    from scipy.special import log_softmax

    scaled = class_logits(logits) / float(temperature)
    labels = np.asarray(labels, dtype=np.int64)
    return float(-log_softmax(scaled, axis=1)[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> TemperatureFit:
    """The temperature in [MIN_TEMPERATURE, MAX_TEMPERATURE] with the lowest log loss on these images.

    T stays 1 without images, and when every image is already right: the log loss then keeps falling as T → 0 (the
    model can only grow surer), which says nothing about how sure it should be on images it has not seen.

    Example:
        >>> fit = fit_temperature(validation_logits, validation_labels)
        >>> fit.temperature   # 1.8: the model's logits were 1.8× too large
    """
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return TemperatureFit(1.0, 0, None, None, "no validation images, so no temperature was fitted")
    before = log_loss(logits, labels)
    if np.all(class_logits(logits).argmax(axis=1) == labels):
        return TemperatureFit(1.0, len(labels), before, before,
                              "every validation image is right, so there is no mistake to calibrate against")
    result = minimize_scalar(lambda log_t: log_loss(logits, labels, math.exp(log_t)), method="bounded",
                             bounds=(math.log(MIN_TEMPERATURE), math.log(MAX_TEMPERATURE)), options={"xatol": 1e-5})
    temperature = float(math.exp(result.x))
    after = log_loss(logits, labels, temperature)
    if after > before:  # the bounded search can end a hair off; never make the fit worse than no scaling
        return TemperatureFit(1.0, len(labels), before, before)
    return TemperatureFit(temperature, len(labels), before, after)
