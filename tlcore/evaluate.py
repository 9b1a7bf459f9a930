"""Test-split metrics with scikit-learn, stored with the run as eval/test.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras


def probabilities_2d(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as (n, classes) probabilities: a single sigmoid unit becomes [1 - p, p]."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return np.concatenate([1.0 - outputs, outputs], axis=1)
    return outputs


def _renormalised(probabilities: np.ndarray) -> np.ndarray:
    """float32 softmax rows sum to 1 only within ~1e-7; scikit-learn warns on that, so clip and rescale."""
    clipped = np.clip(probabilities, 1e-7, 1.0)
    return clipped / clipped.sum(axis=1, keepdims=True)


def classification_report(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str],
                          split_name: str = "test", files: list[str] | None = None) -> dict[str, Any]:
    """Accuracy, log loss, confusion matrix and per-class precision/recall/F1/support, all from scikit-learn."""
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


def evaluate_model(model: "keras.Model", root: Path, items: list[tuple[str, int]], class_names: list[str],
                   image_size: int, split_name: str = "test", batch_size: int = 64) -> dict[str, Any]:
    from tlcore.pipeline import load_arrays

    images, labels = load_arrays(root, items, image_size)
    outputs = model.predict(images, batch_size=batch_size, verbose=0) if len(images) else np.zeros((0, 1))
    return classification_report(labels, probabilities_2d(outputs), class_names, split_name,
                                 files=[relative for relative, _ in items])


def evaluate_run(run_id: str) -> dict[str, Any]:
    """(Re-)evaluate a run's saved model on its stored test split and store the report (CLI / Evaluate page)."""
    from tlcore.predict import load_model
    from tlcore.runs import get_run

    run = get_run(run_id)
    split = run.split()
    if split is None or not run.model_path.exists():
        raise ValueError(f"Run {run_id} has no trained model yet (state: {run.state}).")
    config = run.config()
    from tlcore.data import scan_folder

    root = scan_folder(config.dataset).root
    items = split.test or split.val
    report = evaluate_model(load_model(run.model_path), root, items, split.class_names, config.image_size,
                            "test" if split.test else "validation")
    run.write_evaluation("test", report)
    return report
