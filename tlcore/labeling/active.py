"""The active-learning curve: test accuracy of the instant model against the number of labeled images, per order.

Simulated on features whose labels are all known (the bench hides them and "labels" from the hidden key), the same
prototype classifier the instant model saves, and the same margin rule the labeling queue orders by. Start from
`seed_per_class` labeled images of each class; then label `batch` images at a time, chosen by margin (smallest
first, from the prototypes fitted on what is labeled so far) or at random.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tlcore.labeling.instant import fit_prototypes, prototype_logits
from tlcore.labeling.queue import margins

__all__ = ["CurvePoint", "active_learning_curve"]


@dataclass(frozen=True)
class CurvePoint:
    labeled: int
    accuracy: float


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def active_learning_curve(features: np.ndarray, labels: np.ndarray, pool: np.ndarray, test: np.ndarray,
                          order: str, budgets: list[int], seed: int = 0, seed_per_class: int = 1,
                          batch: int = 10) -> list[CurvePoint]:
    """Accuracy on `test` after labeling each budget's number of images from `pool` in `order` ("margin"/"random")."""
    rng = np.random.default_rng(seed)
    class_count = int(labels.max()) + 1
    labeled = [int(rng.choice(pool[labels[pool] == label])) for label in range(class_count)
               for _ in range(seed_per_class) if (labels[pool] == label).any()]
    remaining = np.setdiff1d(pool, labeled)
    rng.shuffle(remaining)
    remaining = remaining.tolist()
    points = []
    for budget in sorted(budgets):
        while len(labeled) < budget and remaining:
            take = min(batch, budget - len(labeled), len(remaining))
            if order == "margin":
                fit = fit_prototypes(features[labeled], labels[labeled], class_count)
                gaps = margins(_softmax(prototype_logits(features[remaining], fit)))
                chosen = [remaining[index] for index in np.argsort(gaps, kind="stable")[:take]]
            elif order == "random":
                chosen = remaining[:take]
            else:
                raise ValueError(f"Unknown order '{order}'; choose margin or random.")
            labeled += chosen
            remaining = [index for index in remaining if index not in set(chosen)]
        fit = fit_prototypes(features[labeled], labels[labeled], class_count)
        accuracy = float((prototype_logits(features[test], fit).argmax(axis=1) == labels[test]).mean())
        points.append(CurvePoint(len(labeled), accuracy))
    return points
