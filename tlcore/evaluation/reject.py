"""The reject option: answer only when the calibrated top-1 probability reaches a threshold, else say "not sure".

The threshold is chosen on the validation split from a target the user sets ("95 % accuracy on the answers given"):
the lowest threshold whose answered images reach the target, so as many images as possible are answered. Images of
equal confidence are answered or refused together. The accuracy/coverage curve shows every possible threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_TARGET_ACCURACY", "coverage_curve", "answered_at", "choose_threshold"]

DEFAULT_TARGET_ACCURACY = 0.95


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


def choose_threshold(confidence, correct, target_accuracy: float = DEFAULT_TARGET_ACCURACY) -> dict[str, Any]:
    """The lowest threshold at which the answered images reach `target_accuracy` (most answered images).

    The threshold lies halfway between the last confidence answered and the next lower one, or is 0 when every
    image is answered. When no threshold reaches the target, `met` is False and the threshold with the best accuracy
    (the most answered among equals) is returned, so the user sees how far off the target is.

    Raises:
        ValueError: the target is not a share in (0, 1].
    """
    if not 0 < target_accuracy <= 1:
        raise ValueError(f"The target accuracy must be a share between 0 and 1, not {target_accuracy}.")
    ranked, _, accuracy, cut_allowed = _ranked(confidence, correct)
    n = len(ranked)
    if n == 0:
        return {"target_accuracy": target_accuracy, "threshold": None, "met": False, "images": 0, "answered": 0,
                "coverage": 0.0, "accuracy": None}
    candidates = np.flatnonzero(cut_allowed)
    reaching = candidates[accuracy[candidates] >= target_accuracy - 1e-12]
    met = bool(len(reaching))
    if met:
        last = int(reaching[-1])
    else:  # best accuracy, and of those the most images answered
        best = accuracy[candidates].max()
        last = int(candidates[accuracy[candidates] >= best - 1e-12][-1])
    threshold = 0.0 if last == n - 1 else float((ranked[last] + ranked[last + 1]) / 2)
    return {"target_accuracy": target_accuracy, "threshold": threshold, "met": met, "images": n,
            "answered": last + 1, "coverage": (last + 1) / n, "accuracy": float(accuracy[last])}
