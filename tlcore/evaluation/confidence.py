"""A run's calibrated confidence: the temperature and the "not sure" threshold, both fitted on its validation split,
measured on its held-out split, and stored in `eval/calibration.json` beside `eval/test.json`.

`calibrate_run` runs where a run is evaluated (when training ends, and on re-evaluation); `set_target_accuracy`
chooses the threshold again for a new target from the stored validation confidences, without TensorFlow.
The record (all probabilities calibrated unless named "before"):

    temperature, fitted_on ("validation"), fitted_at, note
    validation: images, log_loss_before/after, ece_before/after, confidence[], correct[]
    held_out:   split ("test", or "validation" without a test split), images, log_loss_before/after,
                ece_before/after, before/after (reliability bins), confidence[], correct[]
    reject:     target_accuracy, threshold, met (the lower bound reaches the target), coverage, accuracy, supported_by,
                lower_bound, bound, level, answers_needed (validation), held_out (coverage, accuracy)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tlcore.datasets.pipeline import load_arrays
from tlcore.evaluation.calibration import calibration_summary
from tlcore.evaluation.reject import DEFAULT_TARGET_ACCURACY, answered_at, choose_threshold, coverage_curve
from tlcore.evaluation.temperature import fit_temperature, log_loss
from tlcore.inference.calibrated import calibration_path, read_calibration, scaled_probabilities
from tlcore.inference.model_card import write_model_card
from tlcore.inference.predictor import logits_call
from tlcore.runs.folders import Run
from tlcore.storage.atomic import write_json_atomic

if TYPE_CHECKING:
    import keras

__all__ = [
    "CALIBRATION_BATCH", "calibration_record", "calibrate_run", "preview_reject", "set_target_accuracy",
    "reject_curve", "confidence_summary",
]

CALIBRATION_BATCH = 64


def _split_logits(call: Callable[[np.ndarray], np.ndarray], root: Path, items: list[tuple[str, int]],
                  image_size: int) -> tuple[np.ndarray, np.ndarray]:
    parts = [call(load_arrays(root, items[start:start + CALIBRATION_BATCH], image_size)[0])
             for start in range(0, len(items), CALIBRATION_BATCH)]
    labels = np.asarray([label for _, label in items], dtype=np.int64)
    return (np.concatenate(parts) if parts else np.zeros((0, 1))), labels


def _measured(logits: np.ndarray, labels: np.ndarray, temperature: float) -> dict[str, Any]:
    """Log loss and ECE before (T = 1) and after scaling, and the calibrated top-1 confidences."""
    if len(labels) == 0:
        return {"images": 0, "log_loss_before": None, "log_loss_after": None, "ece_before": None, "ece_after": None,
                "before": calibration_summary(np.zeros((0, 2)), labels),
                "after": calibration_summary(np.zeros((0, 2)), labels), "confidence": [], "correct": []}
    before, after = scaled_probabilities(logits, 1.0), scaled_probabilities(logits, temperature)
    bins_before, bins_after = calibration_summary(before, labels), calibration_summary(after, labels)
    return {"images": int(len(labels)),
            "log_loss_before": log_loss(logits, labels), "log_loss_after": log_loss(logits, labels, temperature),
            "ece_before": bins_before["ece"], "ece_after": bins_after["ece"],
            "before": bins_before, "after": bins_after,
            "confidence": after.max(axis=1).tolist(),  # unrounded: thresholds near 1 must stay apart
            "correct": (after.argmax(axis=1) == labels).tolist()}


def _reject(record: dict[str, Any], target_accuracy: float) -> dict[str, Any]:
    validation, held_out = record["validation"], record["held_out"]
    chosen = choose_threshold(validation["confidence"], validation["correct"], target_accuracy)
    return {**chosen, "chosen_on": "validation",
            "held_out": {"split": held_out["split"],
                         **answered_at(held_out["confidence"], held_out["correct"], chosen["threshold"])}}


def calibration_record(val_logits: np.ndarray, val_labels: np.ndarray, held_out_logits: np.ndarray,
                       held_out_labels: np.ndarray, held_out_split: str = "test",
                       target_accuracy: float = DEFAULT_TARGET_ACCURACY) -> dict[str, Any]:
    """Fit the temperature on the validation logits, measure it on the held-out ones, choose the threshold.

    Pure numpy and scipy: what `calibrate_run` stores, given the logits it computed.
    """
    fit = fit_temperature(val_logits, val_labels)
    validation = _measured(val_logits, val_labels, fit.temperature)
    validation = {key: value for key, value in validation.items() if key not in ("before", "after")}
    units = next((np.shape(logits)[1] for logits in (val_logits, held_out_logits) if len(logits)), None)
    record = {"temperature": fit.temperature, "fitted_on": "validation", "fitted_at": time.time(), "note": fit.note,
              "head": {None: None, 1: "sigmoid"}.get(units, "softmax"),
              "validation": validation,
              "held_out": {"split": held_out_split, **_measured(held_out_logits, held_out_labels, fit.temperature)}}
    record["reject"] = _reject(record, target_accuracy)
    return record


def calibrate_run(run: Run, model: "keras.Model", root: Path, image_size: int,
                  target_accuracy: float | None = None) -> dict[str, Any] | None:
    """Fit and store the run's temperature and threshold (eval/calibration.json). The model card, which shows them,
    is its caller's next step (`inference.model_card.write_model_card`).

    The threshold's target is `target_accuracy`, else the one the run already had, else DEFAULT_TARGET_ACCURACY.
    Returns the record; None (nothing stored) for a model without a TL Studio classifier head.
    """
    call = logits_call(model)
    split = run.split()
    if call is None or split is None:
        return None
    if target_accuracy is None:
        target_accuracy = ((read_calibration(run) or {}).get("reject") or {}).get("target_accuracy") \
            or DEFAULT_TARGET_ACCURACY
    val_logits, val_labels = _split_logits(call, root, split.val, image_size)
    held_out_split, held_out_items = split.held_out
    held_out_logits, held_out_labels = (val_logits, val_labels) if held_out_split == "validation" else \
        _split_logits(call, root, held_out_items, image_size)
    record = calibration_record(val_logits, val_labels, held_out_logits, held_out_labels, held_out_split,
                                target_accuracy)
    write_json_atomic(calibration_path(run), record)
    return record


def preview_reject(record: dict[str, Any], target_accuracy: float) -> dict[str, Any]:
    """The threshold a target would give (validation) and what it does on the held-out split, without storing it."""
    return _reject(record, float(target_accuracy))


def set_target_accuracy(run: Run, target_accuracy: float) -> dict[str, Any]:
    """Choose the run's threshold again for a new target (from the stored validation confidences) and store it.

    Raises:
        ValueError: the run was never calibrated, or the target is not a share in (0, 1].
    """
    record = read_calibration(run)
    if record is None:
        raise ValueError(f"Run {run.id} has no calibration yet: evaluate it again first.")
    record["reject"] = _reject(record, float(target_accuracy))
    write_json_atomic(calibration_path(run), record)
    write_model_card(run)
    return record


def reject_curve(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The validation accuracy/coverage curve behind the stored threshold (tlcore.figures.coverage_curve draws it)."""
    return coverage_curve(record["validation"]["confidence"], record["validation"]["correct"])


def confidence_summary(record: dict[str, Any] | None) -> dict[str, Any]:
    """What `python -m tlcore evaluate RUN --json` reports: temperature, ECE before and after, the threshold."""
    if record is None:
        return {"calibration": None, "reject": None}
    held_out, reject = record["held_out"], record["reject"]
    return {
        "calibration": {"temperature": record["temperature"], "fitted_on": record["fitted_on"],
                        "validation_images": record["validation"]["images"], "measured_on": held_out["split"],
                        "ece_before": held_out["ece_before"], "ece_after": held_out["ece_after"],
                        "log_loss_before": held_out["log_loss_before"], "log_loss_after": held_out["log_loss_after"],
                        "note": record.get("note", "")},
        "reject": {"target_accuracy": reject["target_accuracy"], "threshold": reject["threshold"],
                   "met_on_validation": reject["met"], "validation_coverage": reject["coverage"],
                   "validation_accuracy": reject["accuracy"], "held_out_split": reject["held_out"]["split"],
                   "held_out_coverage": reject["held_out"]["coverage"],
                   "held_out_accuracy": reject["held_out"]["accuracy"],
                   "supported_by": reject.get("supported_by"), "lower_bound": reject.get("lower_bound"),
                   "bound": reject.get("bound"), "answers_needed": reject.get("answers_needed")},
    }
