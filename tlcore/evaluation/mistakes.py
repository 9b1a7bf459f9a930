"""Where a model goes wrong, from the stored per-image predictions: a confusion cell's images, the most confident
mistakes, and the class pairs confused most often.

The stored predictions are the model's own probabilities; `calibrated` rescales them with the run's temperature so the
Evaluate page shows the same numbers Predict and Demo show for the same image (issue 24: "3 · 99 %" on Evaluate,
"3 (93.6 %)" on Predict)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tlcore.datasets.images import BadImage, thumbnail
from tlcore.evaluation.metrics import PROBABILITY_PREFIX
from tlcore.storage.paths import PathOutsideRoot, resolve_dataset_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["calibrated", "Cell", "nonempty_cells", "cell_files", "top_losses", "most_confused_pairs", "thumbnails"]


def calibrated(predictions: "pd.DataFrame", temperature: float) -> "pd.DataFrame":
    """The stored predictions with every probability as the app shows it: softmax(log p / T), which equals
    softmax(logits / T) (log p differs from the logits by a constant per row; for one sigmoid unit stored as
    [1 − p, p] it is sigmoid(z / T)). `confidence` and `loss` follow. T = 1 returns the table unchanged."""
    if abs(float(temperature) - 1.0) < 1e-12 or predictions.empty:
        return predictions
    columns = [column for column in predictions.columns if column.startswith(PROBABILITY_PREFIX)]
    log_p = np.log(np.clip(predictions[columns].to_numpy(dtype=np.float64), 1e-12, 1.0)) / float(temperature)
    log_p -= log_p.max(axis=1, keepdims=True)
    scaled = np.exp(log_p)
    scaled /= scaled.sum(axis=1, keepdims=True)
    table = predictions.copy()
    table[columns] = scaled
    names = [column[len(PROBABILITY_PREFIX):] for column in columns]
    true_index = np.asarray([names.index(name) for name in table["true"]], dtype=np.int64)
    table["confidence"] = scaled.max(axis=1)
    table["loss"] = -np.log(np.clip(scaled[np.arange(len(table)), true_index], 1e-12, 1.0))
    return table


@dataclass(frozen=True)
class Cell:
    """One cell of the confusion matrix: images of class `true` that the model called `predicted`."""
    true: str
    predicted: str
    count: int

    @property
    def label(self) -> str:
        kind = "right" if self.true == self.predicted else "wrong"
        return f"true {self.true} → predicted {self.predicted} ({self.count} image{'s' * (self.count != 1)}, {kind})"


def nonempty_cells(matrix: list[list[int]], class_names: list[str], mistakes_first: bool = True) -> list[Cell]:
    """Cells holding at least one image; mistakes first (largest first), then the diagonal."""
    cells = [Cell(class_names[t], class_names[p], int(count))
             for t, row in enumerate(matrix) for p, count in enumerate(row) if count]
    if mistakes_first:
        cells.sort(key=lambda cell: (cell.true == cell.predicted, -cell.count))
    return cells


def cell_files(predictions: "pd.DataFrame", true: str, predicted: str) -> list[str]:
    """Exactly the files in one confusion cell, in the stored (split) order."""
    mask = (predictions["true"] == true) & (predictions["predicted"] == predicted)
    return predictions.loc[mask, "file"].tolist()


def top_losses(predictions: "pd.DataFrame", count: int = 12) -> list[dict[str, Any]]:
    """The most confident mistakes: wrong predictions ordered by loss (−log p(true class)), highest first."""
    wrong = predictions[predictions["true"] != predictions["predicted"]]
    worst = wrong.sort_values(["loss", "file"], ascending=[False, True]).head(count)
    return [{"file": row.file, "true": row.true, "predicted": row.predicted,
             "probability": float(row.confidence), "loss": float(row.loss)} for row in worst.itertuples()]


def most_confused_pairs(matrix: list[list[int]], class_names: list[str], count: int = 10) -> list[dict[str, Any]]:
    """Off-diagonal cells, largest first: which true class is taken for which, how often and as a share of it."""
    pairs = []
    for t, row in enumerate(matrix):
        total = sum(row)
        for p, images in enumerate(row):
            if t != p and images:
                pairs.append({"true": class_names[t], "predicted": class_names[p], "images": int(images),
                              "share_of_true_class": images / total})
    pairs.sort(key=lambda pair: (-pair["images"], pair["true"], pair["predicted"]))
    return pairs[:count]


def thumbnails(dataset: str, files: list[str], width: int = 96) -> list[tuple[str, Any]]:
    """(file, PIL thumbnail or None when the file is gone or unreadable) for files relative to a dataset folder."""
    try:
        root = resolve_dataset_path(dataset)
    except PathOutsideRoot:
        return [(name, None) for name in files]
    shown = []
    for name in files:
        path = (root / name).resolve()
        try:
            if root not in path.parents:  # a hand-edited predictions file must not reach outside the dataset
                raise BadImage("outside the dataset folder")
            shown.append((name, thumbnail(path, width)))
        except (BadImage, OSError):
            shown.append((name, None))
    return shown
