"""Calibrated confidence: the temperature and "not sure" threshold a run's evaluation fitted, applied to logits.

Temperature scaling (Guo et al., 2017) divides the classifier's logits by one number T before its activation:
softmax(z / T), or sigmoid(z / T) for a binary head with one unit. T > 1 softens an over-confident model, T < 1
sharpens an under-confident one; the top class never changes. The reject option answers "not sure" when the
calibrated top-1 probability is below the run's threshold.

Both are fitted on the validation split by `tlcore.evaluation.trust` and stored in the run's `eval/calibration.json`;
this module only reads them, so prediction (this layer) and exports apply exactly what evaluation chose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tlcore.runs.folders import Run
from tlcore.storage.atomic import read_json

__all__ = [
    "CALIBRATION_FILE", "NOT_SURE", "Confidence", "calibration_path", "read_calibration", "stored_confidence",
    "class_logits", "scaled_probabilities", "answers_needed", "SUPPORT_LEVEL", "confidence_from_reject",
]

CALIBRATION_FILE = "calibration.json"  # in the run's eval/ folder, beside test.json
NOT_SURE = "not sure"  # the answer shown and written (batch CSVs) below the threshold
SUPPORT_LEVEL = 0.95  # one-sided confidence of the bound that must support the target (tlcore.evaluation.reject)


def answers_needed(target_accuracy: float, level: float = SUPPORT_LEVEL) -> int | None:
    """The fewest validation answers, all right, whose one-sided Clopper–Pearson bound reaches `target_accuracy`
    ((1 − level)^(1/n) ≥ target: 59 for 95 %); None for a 100 % target, which no finite sample supports."""
    if target_accuracy >= 1:
        return None
    return int(math.ceil(math.log(1 - level) / math.log(target_accuracy) - 1e-9))


@dataclass(frozen=True)
class Confidence:
    """How a run's probabilities are made trustworthy: divide logits by `temperature`; below `threshold`
    (calibrated top-1 probability) the answer is "not sure". None: no threshold, every answer is given."""

    temperature: float = 1.0
    threshold: float | None = None
    target_accuracy: float | None = None
    supported_by: int | None = None  # validation answers at or above the threshold
    lower_bound: float | None = None  # their one-sided 95 % lower bound on accuracy (None: stored before bounds)
    met: bool | None = None  # the bound reaches the target
    held_out_accuracy: float | None = None  # accuracy of the answers given on the held-out split
    held_out_split: str | None = None

    def is_sure(self, top_probability: float) -> bool:
        return self.threshold is None or top_probability >= self.threshold

    def support_note(self) -> str:
        """'95 % target, supported by 120 validation answers (test: 96.2 % of answers right)', or '' without one."""
        if self.threshold is None or self.target_accuracy is None:
            return ""
        note = f"{self.target_accuracy:.0%} target, supported by {self.supported_by or 0} validation answers"
        if self.held_out_accuracy is not None and self.held_out_split:
            note += f" ({self.held_out_split}: {self.held_out_accuracy:.1%} of the answers given were right)"
        return note

    def support_warning(self) -> str:
        """Why the target is not supported (too few validation answers, or too many wrong), or ''."""
        if self.threshold is None or self.target_accuracy is None or self.met is not False:
            return ""
        needed = answers_needed(self.target_accuracy)
        bound = "" if self.lower_bound is None else \
            f" (at {SUPPORT_LEVEL:.0%} confidence only {self.lower_bound:.1%} is supported)"
        if needed is None:
            return (f"A {self.target_accuracy:.0%} target can never be supported by a finite number of validation "
                    f"answers{bound}: treat its answers as less sure than that.")
        return (f"{self.supported_by or 0} validation answers are too few to support {self.target_accuracy:.0%}"
                f"{bound}: even with every answer right it takes {needed}. Expect answers to be right less often "
                "than the target; add validation images or lower the target on Evaluate.")


def calibration_path(run: Run) -> Path:
    return run.path / "eval" / CALIBRATION_FILE


def read_calibration(run: Run) -> dict[str, Any] | None:
    """The stored calibration record (see tlcore.evaluation.trust), or None for a run never calibrated."""
    return read_json(calibration_path(run))


def stored_confidence(run: Run) -> Confidence:
    """The run's temperature and threshold; T = 1 and no threshold for a run never calibrated."""
    record = read_calibration(run) or {}
    return confidence_from_reject(record.get("reject") or {}, float(record.get("temperature") or 1.0))


def confidence_from_reject(reject: dict[str, Any], temperature: float = 1.0) -> Confidence:
    """A Confidence from a threshold choice (the stored one, or Evaluate's preview of a new target)."""
    held_out = reject.get("held_out") or {}
    return Confidence(temperature, reject.get("threshold"), reject.get("target_accuracy"),
                      supported_by=reject.get("supported_by", reject.get("answered")),
                      lower_bound=reject.get("lower_bound"), met=reject.get("met"),
                      held_out_accuracy=held_out.get("accuracy"), held_out_split=held_out.get("split"))


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
