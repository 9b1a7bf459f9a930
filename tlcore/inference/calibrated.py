"""Calibrated confidence: the temperature and "not sure" threshold a run's evaluation fitted, applied to logits.

Temperature scaling (Guo et al., 2017) divides the classifier's logits by one number T before its activation:
softmax(z / T), or sigmoid(z / T) for a binary head with one unit. T > 1 softens an over-confident model, T < 1
sharpens an under-confident one; the top class never changes. The reject option answers "not sure" when the
calibrated top-1 probability is below the run's threshold.

Both are fitted on the validation split by `tlcore.evaluation.trust` and stored in the run's `eval/calibration.json`;
this module only reads them, so prediction (this layer) and exports apply exactly what evaluation chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tlcore.runs.folders import Run
from tlcore.storage.atomic import read_json

__all__ = [
    "CALIBRATION_FILE", "NOT_SURE", "Confidence", "calibration_path", "read_calibration", "stored_confidence",
    "class_logits", "scaled_probabilities",
]

CALIBRATION_FILE = "calibration.json"  # in the run's eval/ folder, beside test.json
NOT_SURE = "not sure"  # the answer shown and written (batch CSVs) below the threshold


@dataclass(frozen=True)
class Confidence:
    """How a run's probabilities are made trustworthy: divide logits by `temperature`; below `threshold`
    (calibrated top-1 probability) the answer is "not sure". None: no threshold, every answer is given."""

    temperature: float = 1.0
    threshold: float | None = None
    target_accuracy: float | None = None

    def is_sure(self, top_probability: float) -> bool:
        return self.threshold is None or top_probability >= self.threshold


def calibration_path(run: Run) -> Path:
    return run.path / "eval" / CALIBRATION_FILE


def read_calibration(run: Run) -> dict[str, Any] | None:
    """The stored calibration record (see tlcore.evaluation.trust), or None for a run never calibrated."""
    return read_json(calibration_path(run))


def stored_confidence(run: Run) -> Confidence:
    """The run's temperature and threshold; T = 1 and no threshold for a run never calibrated."""
    record = read_calibration(run) or {}
    reject = record.get("reject") or {}
    return Confidence(float(record.get("temperature") or 1.0), reject.get("threshold"), reject.get("target_accuracy"))


def class_logits(logits: np.ndarray) -> np.ndarray:
    """(n, classes) logits: a binary head's one logit z becomes [0, z], since sigmoid(z) = softmax([0, z])[1]."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 2 and logits.shape[1] == 1:
        return np.concatenate([np.zeros_like(logits), logits], axis=1)
    return logits


def scaled_probabilities(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(n, classes) probabilities softmax(z / T) in float64 (a single sigmoid logit gives [1 - p, p])."""
    scaled = class_logits(logits) / float(temperature)
    scaled -= scaled.max(axis=1, keepdims=True) if len(scaled) else 0.0
    exponentials = np.exp(scaled)
    return exponentials / exponentials.sum(axis=1, keepdims=True)
