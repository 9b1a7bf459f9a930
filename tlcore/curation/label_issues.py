"""Label issues: which images are probably in the wrong class folder, ranked by cleanlab, each with a suggested label.

cleanlab needs out-of-sample probabilities: every image scored by a model that never learned its label. They come
from a K-fold cross-validated logistic regression on pooled features of a base that did not learn these labels (the
pretrained or random base, never a fine-tuned run's own model, whose features already fit the wrong labels), and,
with a run, from the run's stored held-out predictions for the files it was tested on. `label_issue_report` is the
product path (the CLI `label-issues`, the map task) and says which source scored how many images. The score is
1 − the probability of the given label (higher: more likely wrong).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

__all__ = ["DEFAULT_FOLDS", "HELD_OUT_MARGIN", "MAX_DIMENSIONS", "HEARTBEAT_S", "SOURCE_HELD_OUT", "SOURCE_CROSS_VALIDATED", "LabelIssue",
           "LabelIssueReport", "out_of_sample_probabilities", "issue_scores", "rank_label_issues",
           "base_config_for", "label_issue_report", "heartbeat"]

HEARTBEAT_S = 1.0  # a long scikit-learn or cleanlab call still reports this often (the promise is every 2 s)
SOURCE_HELD_OUT = "the run's held-out predictions"
SOURCE_CROSS_VALIDATED = "cross-validated logistic regression on base features"
Report = Callable[[float, str], None]


def _silent(fraction: float, message: str) -> None:
    return None


@contextmanager
def heartbeat(report: Report, fraction: float, message: str, every_s: float = HEARTBEAT_S):
    """Report `message` (with the seconds spent) every `every_s` while the block runs: no step goes quiet."""
    stop = threading.Event()
    start = time.monotonic()

    def beat() -> None:
        while not stop.wait(every_s):
            report(fraction, f"{message} ({time.monotonic() - start:.0f} s)")

    report(fraction, message)
    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()

DEFAULT_FOLDS = 5
HELD_OUT_MARGIN = 0.10  # a run's held-out predictions are set aside when they match the given labels of its test files
# more than 10 points less often than the cross-validated ones (a run left at chance, 10 % against 80 %, measured)
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
                                folds: int = DEFAULT_FOLDS, seed: int = 0, report: Report = _silent) -> np.ndarray:
    """(n, class_count) probabilities, each row from a logistic regression fitted on the other folds.

    Raises:
        ValueError: a class has fewer than 2 images (no fold could hold one out), or fewer than 2 classes.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold
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
    present_classes = np.flatnonzero(counts)
    full = np.zeros((len(labels), class_count), dtype=np.float64)  # a class absent here keeps probability 0
    for fold, (fit_rows, held_rows) in enumerate(splitter.split(features, labels)):
        with heartbeat(report, fold / folds, f"label issues: fold {fold + 1}/{folds} of the cross-validation"):
            fitted = clone(classifier).fit(features[fit_rows], labels[fit_rows])
            columns = np.searchsorted(present_classes, fitted.classes_)
            full[np.ix_(held_rows, present_classes[columns])] = fitted.predict_proba(features[held_rows])
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


@dataclass
class LabelIssueReport:
    """The ranked issues and where their probabilities came from ({source: images scored by it})."""

    dataset: str
    images: int
    issues: list[LabelIssue]
    sources: dict[str, int]
    features: str
    paths: list[str] = field(default_factory=list)
    probabilities: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    note: str = ""  # why a source was set aside (a run whose held-out answers are worse than the cross-validated ones)

    @property
    def flagged(self) -> int:
        return sum(issue.flagged for issue in self.issues)

    def describe(self) -> str:
        """One line for the page and the CLI: which probabilities ranked the images."""
        parts = [f"{source} for {count:,}" for source, count in self.sources.items() if count]
        return f"Probabilities: {'; '.join(parts)} ({self.features}).{' ' + self.note if self.note else ''}"


def base_config_for(config):
    """The `EmbedConfig` of a base that did not learn the labels: a run's backbone, size and initial weights (ImageNet
    or its random base), never its fine-tuned model; without a run, `config` itself."""
    from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM
    from tlcore.curation.embeddings import EmbedConfig
    from tlcore.runs.folders import get_run

    if not config.run:
        return config
    trained = get_run(config.run).config()
    weights = trained.weights if trained.weights in (WEIGHTS_IMAGENET, WEIGHTS_RANDOM) else WEIGHTS_IMAGENET
    return EmbedConfig(trained.dataset, trained.backbone, trained.image_size, weights, run=None,
                       method=config.method, seed=config.seed)


def _held_out_rows(run_id: str, paths: list[str], labels: np.ndarray, class_names: list[str]):
    """{row index: probabilities in `class_names` order} from the run's stored test predictions, for files whose
    stored label is still the given one (a file relabelled since was not held out under its present label)."""
    from tlcore.evaluation.metrics import PROBABILITY_PREFIX, load_predictions
    from tlcore.runs.folders import get_run

    predictions = load_predictions(get_run(run_id))
    if predictions is None:
        return {}
    columns = [PROBABILITY_PREFIX + name for name in class_names]
    if not set(columns) <= set(predictions.columns):
        return {}
    where = {path: i for i, path in enumerate(paths)}
    rows = {}
    for file, true, values in zip(predictions["file"], predictions["true"], predictions[columns].to_numpy(float)):
        index = where.get(file)
        if index is not None and class_names[labels[index]] == true:
            rows[index] = values
    return rows


def label_issue_report(config, report: Report = _silent, folds: int = DEFAULT_FOLDS) -> LabelIssueReport:
    """The product path: base features (cached), cross-validated probabilities, the run's held-out ones where it
    has them, cleanlab's ranking; progress at least every HEARTBEAT_S in every step.

    Raises what `compute_embeddings` raises (WeightsUnavailable, DatasetError, ValueError).
    """
    from tlcore.curation.embeddings import compute_embeddings

    base = base_config_for(config)
    embeddings = compute_embeddings(base, lambda fraction, message: report(0.8 * fraction, message))
    labels, names = embeddings.labels, embeddings.class_names
    probabilities = out_of_sample_probabilities(embeddings.features, labels, len(names), folds, config.seed,
                                                lambda fraction, message: report(0.8 + 0.15 * fraction, message))
    held_out = _held_out_rows(config.run, embeddings.paths, labels, names) if config.run else {}
    note = ""
    if held_out:
        rows = np.array(sorted(held_out))
        run_agrees = float(np.mean(np.array([held_out[i] for i in rows]).argmax(axis=1) == labels[rows]))
        cross_agrees = float(np.mean(probabilities[rows].argmax(axis=1) == labels[rows]))
        if run_agrees < cross_agrees - HELD_OUT_MARGIN:  # a run clearly worse than a regression on base features
            # (one left at chance) would only blur the ranking
            note = (f"The run's held-out predictions were set aside: on its {len(rows):,} test files they match the "
                    f"given labels far less often ({run_agrees:.0%}) than the cross-validated ones ({cross_agrees:.0%}).")
            held_out = {}
    for index, values in held_out.items():
        probabilities[index] = values
    with heartbeat(report, 0.96, "label issues: cleanlab ranking"):
        issues = rank_label_issues(embeddings.paths, labels, probabilities, names)
    report(1.0, "label issues done")
    features = f"{base.backbone} {base.image_size} px, {base.weights} weights"
    sources = {SOURCE_HELD_OUT: len(held_out), SOURCE_CROSS_VALIDATED: len(labels) - len(held_out)}
    return LabelIssueReport(embeddings.root, len(labels), issues, sources, features, embeddings.paths, probabilities,
                            names, note)
