"""Calibration: does a model that says "90 % sure" turn out right 90 % of the time?

Binning (the usual one, Guo et al. 2017): confidence = the top-1 probability; [0, 1] is cut into `n_bins` equal-width
bins, right-closed ((0, 0.1], (0.1, 0.2], …; a confidence of exactly 0 goes to the first bin). Expected calibration
error = Σ over bins of (images in bin / all images) × |accuracy in bin − mean confidence in bin|. Empty bins add 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_BINS", "reliability_bins", "expected_calibration_error", "calibration_summary"]

DEFAULT_BINS = 10


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = DEFAULT_BINS) -> list[dict[str, Any]]:
    """One row per bin: its edges, image count, accuracy and mean confidence (None for an empty bin)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # right-closed bins: searchsorted(side="left") puts a value equal to an edge into the bin that edge closes
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        rows.append({"lower": float(edges[b]), "upper": float(edges[b + 1]), "images": count,
                     "accuracy": float(correct[members].mean()) if count else None,
                     "confidence": float(confidence[members].mean()) if count else None})
    return rows


def expected_calibration_error(bins: list[dict[str, Any]]) -> float:
    """Weighted mean gap between accuracy and confidence over the bins of `reliability_bins`."""
    total = sum(row["images"] for row in bins)
    if total == 0:
        return 0.0
    return float(sum(row["images"] / total * abs(row["accuracy"] - row["confidence"])
                     for row in bins if row["images"]))


def calibration_summary(probabilities: np.ndarray, y_true: np.ndarray, n_bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """What eval/test.json stores: the bins and the ECE computed from them."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    confidence = probabilities.max(axis=1) if len(probabilities) else np.zeros(0)
    correct = probabilities.argmax(axis=1) == np.asarray(y_true) if len(probabilities) else np.zeros(0, bool)
    bins = reliability_bins(confidence, correct, n_bins)
    return {"n_bins": n_bins, "ece": expected_calibration_error(bins), "bins": bins}
