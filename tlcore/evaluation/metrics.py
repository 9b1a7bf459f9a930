"""Evaluation of a run with scikit-learn, stored with the run so every view is drawn without TensorFlow.

eval/test.json holds the metrics (accuracy, loss, top-k, per-class scores, confusion matrix, calibration);
eval/test_predictions.csv holds one row per image (file, true and predicted class, loss, each class's probability).
Both come from the test split, or the validation split when a run has no test split (the report's "split" says which).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tlcore.datasets.pipeline import load_arrays
from tlcore.evaluation.calibration import calibration_summary
from tlcore.evaluation.confidence import calibrate_run, confidence_summary
from tlcore.inference.calibrated import read_calibration
from tlcore.inference.model_card import write_model_card
from tlcore.inference.predictor import probabilities_2d
from tlcore.layers.loading import load_model
from tlcore.runs.folders import Run, get_run
from tlcore.runs.trained import open_trained_run
from tlcore.storage.atomic import write_text_atomic

if TYPE_CHECKING:
    import keras
    import pandas as pd


__all__ = [
    "PREDICTIONS_FILE", "PROBABILITY_PREFIX", "MAX_STORED_K", "EVALUATION_BATCH", "ImagesDone", "top_k_accuracy", "stored_ks",
    "classification_report", "predictions_csv", "predictions_path", "load_predictions", "probability_matrix",
    "true_indices", "top_k_of", "store_evaluation", "is_complete", "evaluate_model", "evaluate_run",
    "evaluate_task", "metrics_summary", "stored_or_fresh_metrics"
]

PREDICTIONS_FILE = "test_predictions.csv"
PROBABILITY_PREFIX = "p:"  # column "p:cat" holds the probability of class "cat"
MAX_STORED_K = 5

EVALUATION_BATCH = 64  # images decoded and predicted at a time; progress is reported after each batch
ImagesDone = Callable[[int, int], None]  # progress(images evaluated so far, images to evaluate)


def _renormalised(probabilities: np.ndarray) -> np.ndarray:
    """float32 softmax rows sum to 1 only within ~1e-7; scikit-learn warns on that, so clip and rescale."""
    clipped = np.clip(probabilities, 1e-7, 1.0)
    return clipped / clipped.sum(axis=1, keepdims=True)


def top_k_accuracy(y_true: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """Share of images whose true class is among the k most probable (scikit-learn's top_k_accuracy_score)."""
    from sklearn.metrics import top_k_accuracy_score

    classes = probabilities.shape[1]
    if k >= classes:
        return 1.0
    # scikit-learn wants the positive class's score as one column for two classes
    scores = probabilities[:, 1] if classes == 2 else probabilities
    return float(top_k_accuracy_score(y_true, scores, k=k, labels=list(range(classes))))


def stored_ks(class_count: int) -> list[int]:
    """The k values whose top-k accuracy is stored: 2 … 5, below the class count (top-k over all classes is 1)."""
    return list(range(2, min(MAX_STORED_K, class_count - 1) + 1))


def classification_report(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str],
                          split_name: str = "test", files: list[str] | None = None) -> dict[str, Any]:
    """Accuracy, log loss, top-k, confusion matrix, per-class precision/recall/F1/support (all scikit-learn) and
    calibration (tlcore.evaluation.calibration)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support

    labels = list(range(len(class_names)))
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    return {
        "split": split_name,
        "images": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "loss": float(log_loss(y_true, _renormalised(probabilities), labels=labels)),
        "top_k_accuracy": {str(k): top_k_accuracy(y_true, probabilities, k) for k in stored_ks(len(class_names))},
        "calibration": calibration_summary(probabilities, y_true),
        "class_names": list(class_names),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_class": [
            {"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
        ],
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "confidence": probabilities.max(axis=1).round(6).tolist(),
        "files": files or [],
    }


# --- per-image predictions, stored with the run -------------------------------------------------------------------
def predictions_csv(files: list[str], y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> str:
    """One CSV row per image: file, true, predicted, confidence, loss (−log p(true class)), then p:<class> columns."""
    import pandas as pd

    probabilities = np.asarray(probabilities, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = probabilities.argmax(axis=1)
    p_true = _renormalised(probabilities)[np.arange(len(y_true)), y_true]
    table = pd.DataFrame({
        "file": files,
        "true": [class_names[i] for i in y_true],
        "predicted": [class_names[i] for i in y_pred],
        "confidence": probabilities.max(axis=1),
        "loss": -np.log(p_true),
    })
    for index, name in enumerate(class_names):
        table[PROBABILITY_PREFIX + name] = probabilities[:, index]
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue()


def predictions_path(run: "Run") -> Path:
    return run.path / "eval" / PREDICTIONS_FILE


def load_predictions(run: "Run") -> "pd.DataFrame | None":
    """The stored per-image predictions, or None for a run evaluated before they were kept."""
    import pandas as pd

    path = predictions_path(run)
    if not path.exists():
        return None
    return pd.read_csv(path, dtype={"file": str, "true": str, "predicted": str}, keep_default_na=False)


def probability_matrix(predictions: "pd.DataFrame", class_names: list[str]) -> np.ndarray:
    return predictions[[PROBABILITY_PREFIX + name for name in class_names]].to_numpy(dtype=np.float64)


def true_indices(predictions: "pd.DataFrame", class_names: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(class_names)}
    return np.asarray([index[name] for name in predictions["true"]], dtype=np.int64)


def top_k_of(predictions: "pd.DataFrame", class_names: list[str], k: int) -> float:
    """Top-k accuracy for any k from the stored predictions (no model needed)."""
    return top_k_accuracy(true_indices(predictions, class_names), probability_matrix(predictions, class_names), k)


def store_evaluation(run: "Run", report: dict[str, Any], probabilities: np.ndarray) -> None:
    """Predictions first, then the report: a reader that sees the new report also finds its predictions."""
    write_text_atomic(predictions_path(run), predictions_csv(report["files"], np.asarray(report["y_true"]),
                                                             probabilities, report["class_names"]))
    run.write_evaluation("test", report)


def is_complete(run: "Run") -> bool:
    """True when the run's stored evaluation has everything the Evaluate page shows (older runs lack some)."""
    report = run.evaluation()
    return report is not None and "calibration" in report and predictions_path(run).exists()


# --- evaluating a model ---------------------------------------------------------------------------------------------
def evaluate_model(model: "keras.Model", root: Path, items: list[tuple[str, int]], class_names: list[str],
                   image_size: int, split_name: str = "test", batch_size: int | None = None,
                   run: "Run | None" = None, progress: ImagesDone | None = None) -> dict[str, Any]:
    """The report for `items`; with `run`, also stored in its folder (report and per-image predictions), nothing else:
    calibrating and the model card are steps of their own (`evaluate_run`; at the end of training,
    `tlcore.training.finish.END_OF_TRAINING`).

    Images are decoded and predicted a batch at a time, so memory holds one batch of pixels and `progress(done, total)`
    is called after every batch (and once with 0 before the first): a bar moves instead of jumping to the end.
    """
    total, batch_size = len(items), batch_size or EVALUATION_BATCH
    progress = progress or (lambda done, total: None)
    progress(0, total)
    parts = []
    for start in range(0, total, batch_size):
        images, _ = load_arrays(root, items[start:start + batch_size], image_size)
        parts.append(probabilities_2d(model.predict(images, batch_size=batch_size, verbose=0)))
        progress(start + len(images), total)
    probabilities = np.concatenate(parts) if parts else np.zeros((0, len(class_names)))
    labels = np.asarray([label for _, label in items], dtype=np.int64)
    report = classification_report(labels, probabilities, class_names, split_name,
                                   files=[relative for relative, _ in items])
    if run is not None:
        store_evaluation(run, report, probabilities)
    return report


def evaluate_run(run_id: str, progress: ImagesDone | None = None) -> dict[str, Any]:
    """(Re-)evaluate a run's saved model on its stored test split (validation when it has none) and store it, then
    calibrate it on its validation split and rewrite its model card: the same three steps as the end of training."""

    trained = open_trained_run(run_id, "evaluate")
    split_name, items = trained.split.held_out
    model = load_model(trained.run.model_path)
    report = evaluate_model(model, trained.root, items, trained.split.class_names, trained.config.image_size,
                            split_name, run=trained.run, progress=progress)
    calibrate_run(trained.run, model, trained.root, trained.config.image_size)
    write_model_card(trained.run)
    return report


def evaluate_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task kind "evaluate": re-evaluate a run in a job process (the page never runs TensorFlow itself).

    Loading the model is the first 10 %; every batch of images moves the bar on to 100 %.
    """
    report(0.0, f"loading the model of {params['run']}")

    def images_done(done: int, total: int) -> None:
        report(0.1 + 0.9 * done / max(1, total), f"evaluating {params['run']}: {done:,}/{total:,} images")

    result = evaluate_run(params["run"], images_done)
    report(1.0, "done")
    return {"run": params["run"], "split": result["split"], "accuracy": result["accuracy"]}


def metrics_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The stored metrics without the per-image lists: what `python -m tlcore evaluate RUN --json` prints."""
    keys = ("split", "images", "accuracy", "loss", "top_k_accuracy", "class_names", "confusion_matrix", "per_class")
    summary = {key: report[key] for key in keys}
    summary["ece"] = report["calibration"]["ece"]
    summary["calibration_bins"] = report["calibration"]["n_bins"]
    return summary


def stored_or_fresh_metrics(run_id: str) -> dict[str, Any]:
    """The run's stored metrics; a run evaluated before they were all kept (or calibrated) is evaluated again first."""
    run = get_run(run_id)
    uncalibrated = read_calibration(run) is None and run.model_path.exists()
    report = run.evaluation() if is_complete(run) and not uncalibrated else evaluate_run(run_id)
    return {"run": run.id, **metrics_summary(report), **confidence_summary(read_calibration(run))}
