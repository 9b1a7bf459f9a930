"""Label issues: which images are probably in the wrong class folder, ranked by cleanlab, each with a suggested label.

Out-of-sample probabilities come from a cross-validated logistic regression on pooled features (every image is
scored by a classifier that never saw it), or from a run's held-out predictions; cleanlab's `find_label_issues`
flags and ranks them. The score is 1 − the probability of the given label (higher: more likely wrong).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["DEFAULT_FOLDS", "MAX_DIMENSIONS", "LabelIssue", "out_of_sample_probabilities", "issue_scores", "rank_label_issues"]

DEFAULT_FOLDS = 5
MAX_DIMENSIONS = 128  # features are reduced to this by PCA (fitted inside each fold) before the regression: 1,280-dim
# features of 50k images would make five regressions take minutes; the ranking barely changes


@dataclass(frozen=True)
class LabelIssue:
    """One image whose given label is doubtful; `flagged` when cleanlab counts it as an issue (not only ranked)."""

    path: str
    given: str
    suggested: str
    score: float
    flagged: bool

    def to_dict(self) -> dict:
        return asdict(self)


def out_of_sample_probabilities(features: np.ndarray, labels: np.ndarray, class_count: int,
                                folds: int = DEFAULT_FOLDS, seed: int = 0) -> np.ndarray:
    """(n, class_count) probabilities, each row from a logistic regression fitted on the other folds.

    Raises:
        ValueError: a class has fewer than 2 images (no fold could hold one out), or fewer than 2 classes.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=class_count)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        raise ValueError("Finding label issues needs at least 2 classes with at least 2 images each.")
    folds = int(min(folds, present.min()))
    steps = [StandardScaler()]
    if features.shape[1] > MAX_DIMENSIONS and len(labels) > 2 * MAX_DIMENSIONS:
        steps.append(PCA(n_components=MAX_DIMENSIONS, random_state=seed))
    classifier = make_pipeline(*steps, LogisticRegression(max_iter=500, C=0.1))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    probabilities = cross_val_predict(classifier, features, labels, cv=splitter, method="predict_proba")
    full = np.zeros((len(labels), class_count), dtype=np.float64)  # a class absent here keeps probability 0
    full[:, np.flatnonzero(counts)] = probabilities
    return full


def issue_scores(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """1 − probability of the given label, per image: what the map colours by and the list is ranked by."""
    labels = np.asarray(labels, dtype=np.int64)
    return 1.0 - probabilities[np.arange(len(labels)), labels]


def rank_label_issues(paths: list[str], labels: np.ndarray, probabilities: np.ndarray, class_names: list[str],
                      top: int | None = None) -> list[LabelIssue]:
    """cleanlab's flagged issues first (in its self-confidence ranking), then the rest by score; `top` cuts the list."""
    from cleanlab.filter import find_label_issues

    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.clip(probabilities, 1e-9, 1.0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    flagged = [int(i) for i in find_label_issues(labels, probabilities, return_indices_ranked_by="self_confidence")]
    scores = issue_scores(labels, probabilities)
    flagged_set = set(flagged)
    rest = [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in flagged_set]
    order = (flagged + rest)[:top] if top is not None else flagged + rest
    suggested = probabilities.argmax(axis=1)
    return [LabelIssue(paths[i], class_names[labels[i]], class_names[int(suggested[i])], round(float(scores[i]), 6),
                       i in flagged_set) for i in order]
