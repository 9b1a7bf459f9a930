"""Metrics, calibration (temperature and reject option), mistakes and run comparison, stored so the pages draw them
without TensorFlow."""

from tlcore.evaluation.calibration import DEFAULT_BINS
from tlcore.evaluation.compare import BEST_BADGE, comparison_rows, histories, is_best, mark_best, unmark_best
from tlcore.evaluation.confidence import confidence_summary, preview_reject, reject_curve, set_target_accuracy
from tlcore.evaluation.examples import class_examples
from tlcore.evaluation.metrics import evaluate_run, is_complete, load_predictions, stored_or_fresh_metrics, top_k_of
from tlcore.evaluation.mistakes import cell_files, most_confused_pairs, nonempty_cells, thumbnails, top_losses
from tlcore.evaluation.reject import DEFAULT_TARGET_ACCURACY

__all__ = [
    "DEFAULT_BINS",
    "BEST_BADGE",
    "comparison_rows",
    "histories",
    "is_best",
    "mark_best",
    "unmark_best",
    "confidence_summary",
    "preview_reject",
    "reject_curve",
    "set_target_accuracy",
    "class_examples",
    "evaluate_run",
    "is_complete",
    "load_predictions",
    "stored_or_fresh_metrics",
    "top_k_of",
    "cell_files",
    "most_confused_pairs",
    "nonempty_cells",
    "thumbnails",
    "top_losses",
    "DEFAULT_TARGET_ACCURACY",
]
