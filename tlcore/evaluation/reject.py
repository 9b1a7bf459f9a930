"""The reject option: answer only when the calibrated top-1 probability reaches a threshold, else say "not sure".

The threshold is chosen on the validation split from a target the user sets ("95 % accuracy on the answers given"):
the lowest threshold at which the answered validation images *support* the target, so as many images as possible
are answered. Supporting means more than reaching it: 23 right out of 24 answers is 96 %, but a model that is right
90 % of the time often scores that on 24 images. So the one-sided 95 % Clopper–Pearson lower bound on the accepted
accuracy must reach the target (an exact binomial bound: with every answer right, 59 answers are needed to support
95 %). When no threshold does, `met` is False, the threshold whose answers come closest (the highest bound) is kept,
and the pages warn that N validation answers are too few. Images of equal confidence are answered or refused
together. The accuracy/coverage curve shows every possible threshold.

Measured on synthetic calibrated data (bench/not_sure_coverage.py, docs/confidence.md): the old rule (empirical
accuracy ≥ target) gave a held-out accepted accuracy below the target in about half the re-splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tlcore.inference.calibrated import SUPPORT_LEVEL, answers_needed

__all__ = ["DEFAULT_TARGET_ACCURACY", "BOUND_LEVEL", "BOUND_NAME", "coverage_curve", "answered_at",
           "choose_threshold", "accuracy_lower_bound", "answers_needed"]

DEFAULT_TARGET_ACCURACY = 0.95
BOUND_LEVEL = SUPPORT_LEVEL  # one-sided confidence of the lower bound on the accepted accuracy
BOUND_NAME = "Clopper–Pearson"


def accuracy_lower_bound(right, answered, level: float = BOUND_LEVEL) -> np.ndarray:
    """One-sided exact (Clopper–Pearson) lower bound on the accuracy behind `right` of `answered`: with probability
    `level` the true accuracy is at least this. Element-wise; 0 where nothing is right or nothing answered."""
    from scipy.stats import beta  # imported here: scipy.stats costs seconds at every page, CLI and job start

    right = np.asarray(right, dtype=np.float64)
    answered = np.asarray(answered, dtype=np.float64)
    safe = right > 0
    bound = beta.ppf(1 - level, np.where(safe, right, 1.0), np.maximum(answered - right + 1, 1.0))
    return np.where(safe, bound, 0.0)




def _ranked(confidence, correct) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Confidences high to low, the running accuracy of the k most confident, and where a cut may fall (ties kept)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    order = np.argsort(-confidence, kind="stable")
    ranked, right = confidence[order], correct[order]
    accuracy = np.cumsum(right) / np.arange(1, len(ranked) + 1)
    cut_allowed = np.append(ranked[:-1] > ranked[1:], True)[:len(ranked)]  # after the last of equal confidences
    return ranked, right, accuracy, cut_allowed


def coverage_curve(confidence, correct) -> list[dict[str, Any]]:
    """One point per possible threshold, most confident first: answering images with confidence ≥ `threshold`
    answers `coverage` of them with `accuracy` right."""
    ranked, _, accuracy, cut_allowed = _ranked(confidence, correct)
    n = len(ranked)
    return [{"threshold": float(ranked[i]), "answered": int(i) + 1, "coverage": (int(i) + 1) / n,
             "accuracy": float(accuracy[i])} for i in np.flatnonzero(cut_allowed)]


def answered_at(confidence, correct, threshold: float | None) -> dict[str, Any]:
    """What a threshold does to a set of images: how many are answered (coverage) and how many of those are right."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    answered = confidence >= (threshold if threshold is not None else -np.inf)
    count = int(answered.sum())
    return {"images": int(len(confidence)), "answered": count,
            "coverage": count / len(confidence) if len(confidence) else 0.0,
            "accuracy": float(correct[answered].mean()) if count else None}


def choose_threshold(confidence, correct, target_accuracy: float = DEFAULT_TARGET_ACCURACY,
                     level: float | None = BOUND_LEVEL) -> dict[str, Any]:
    """The lowest threshold at which the answered images support `target_accuracy` (most answered images).

    Supported: the one-sided `level` Clopper–Pearson lower bound on the answered images' accuracy reaches the
    target (`level=None`: their plain accuracy does, the old rule that overpromises on few images). The threshold
    lies halfway between the last confidence answered and the next lower one, or is 0 when every image is answered.
    When no threshold supports the target, `met` is False and the threshold with the best bound (the most answered
    among equals) is returned, so the user sees how far off the target is. `supported_by` is the number of
    validation answers behind the threshold, `lower_bound` their bound, `answers_needed` the fewest all-right
    answers that could support the target.

    Raises:
        ValueError: the target is not a share in (0, 1].
    """
    if not 0 < target_accuracy <= 1:
        raise ValueError(f"The target accuracy must be a share between 0 and 1, not {target_accuracy}.")
    ranked, right, accuracy, cut_allowed = _ranked(confidence, correct)
    n = len(ranked)
    support = {"bound": BOUND_NAME if level else None, "level": level,
               "answers_needed": answers_needed(target_accuracy, level) if level else None}
    if n == 0:
        return {"target_accuracy": target_accuracy, "threshold": None, "met": False, "images": 0, "answered": 0,
                "coverage": 0.0, "accuracy": None, "supported_by": 0, "lower_bound": None, **support}
    answered = np.arange(1, n + 1)
    bound = accuracy_lower_bound(np.cumsum(right), answered, level) if level else accuracy
    candidates = np.flatnonzero(cut_allowed)
    reaching = candidates[bound[candidates] >= target_accuracy - 1e-12]
    met = bool(len(reaching))
    if met:
        last = int(reaching[-1])
    else:  # the best bound, and of those the most images answered
        best = bound[candidates].max()
        last = int(candidates[bound[candidates] >= best - 1e-12][-1])
    threshold = 0.0 if last == n - 1 else float((ranked[last] + ranked[last + 1]) / 2)
    return {"target_accuracy": target_accuracy, "threshold": threshold, "met": met, "images": n,
            "answered": last + 1, "coverage": (last + 1) / n, "accuracy": float(accuracy[last]),
            "supported_by": last + 1, "lower_bound": float(bound[last]), **support}
