"""Evaluating a model trained elsewhere on a class-folder dataset (task "evaluate_external")."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from tlcore.datasets.scan import scan_folder
from tlcore.evaluation.metrics import classification_report
from tlcore.inference.sources import load_external, shortlist
from tlcore.layers.loading import BadModelFile
from tlcore.datasets.images import load_array

__all__ = ["evaluate_external", "evaluate_external_task"]


def evaluate_external(model_path: Path, class_names: list[str], dataset: str,
                      report: Callable[[float, str], None] | None = None, batch: int = 64) -> dict[str, Any]:
    """Accuracy, loss, confusion matrix and per-class scores of an external model on every image of a class-folder
    dataset whose folder names are the model's class names."""

    report = report or (lambda fraction, message: None)
    scan = scan_folder(dataset)
    unknown = [name for name in scan.class_names if name not in class_names]
    if unknown:
        raise BadModelFile(f"These class folders of {scan.root.name} are not among the model's classes: "
                                 f"{shortlist(unknown)}. Folder names must match the class names.")
    predictor = load_external(Path(model_path), class_names)
    items = [(relative, class_names.index(scan.class_names[label])) for relative, label in scan.files]
    chunks = []
    for start in range(0, len(items), batch):
        part = items[start:start + batch]
        images = np.stack([load_array(scan.root / relative, predictor.image_size) for relative, _ in part])
        chunks.append(predictor.probabilities(images))
        report((start + len(part)) / len(items), f"{start + len(part)}/{len(items)} images")
    result = classification_report(np.array([label for _, label in items]), np.concatenate(chunks), class_names,
                                   split_name=f"all of {scan.root.name}", files=[relative for relative, _ in items])
    return {**result, "model": Path(model_path).name, "dataset": dataset}


def evaluate_external_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task entry point (kind "evaluate_external"): params {"model": path, "classes": [...], "dataset": folder}."""
    return evaluate_external(Path(params["model"]), params["classes"], params["dataset"], report)
