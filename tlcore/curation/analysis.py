"""One background task ("embedding_map") for the data-centric loop: features → 2-D map, label issues, near-duplicates
and outliers, stored as the task's result so the pages only read and draw.

The result holds one column per field (`points`: path, split, label, x, y, issue score, suggested label, flagged,
outlier score, and for a run the held-out prediction: correct, confidence), which stays a few MB at 50k images.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from tlcore.curation.duplicates import RULE, duplicate_pairs, nearest_neighbours, outlier_scores
from tlcore.curation.embeddings import EmbedConfig, Embeddings, compute_embeddings
from tlcore.curation.label_issues import (
    SOURCE_CROSS_VALIDATED,
    LabelIssueReport,
    issue_scores,
    label_issue_report,
    out_of_sample_probabilities,
    rank_label_issues,
)
from tlcore.curation.projection import project

__all__ = ["TASK_KIND", "MAX_ISSUES_LISTED", "analyse_embeddings", "analyse", "embedding_map_task", "latest_map_task"]

TASK_KIND = "embedding_map"
MAX_ISSUES_LISTED = 500
MAX_PAIRS_LISTED = 500


def _held_out(run_id: str | None, embeddings: Embeddings) -> dict[str, list]:
    """Correct/wrong and confidence from a run's stored test predictions (held out); None where it has none."""
    correct: list = [None] * len(embeddings.paths)
    confidence: list = [None] * len(embeddings.paths)
    if run_id:
        from tlcore.evaluation.metrics import load_predictions
        from tlcore.runs.folders import get_run

        predictions = load_predictions(get_run(run_id))
        if predictions is not None:
            rows = {row.file: row for row in predictions.itertuples(index=False)}
            for i, path in enumerate(embeddings.paths):
                row = rows.get(path)
                if row is not None:
                    correct[i] = bool(row.true == row.predicted)
                    confidence[i] = round(float(row.confidence), 4)
    return {"correct": correct, "confidence": confidence}


def analyse_embeddings(embeddings: Embeddings, method: str = "umap", seed: int = 0, run_id: str | None = None,
                       report: Callable[[float, str], None] = lambda fraction, message: None,
                       labels_from: LabelIssueReport | None = None) -> dict[str, Any]:
    """The map, ranked label issues, near-duplicate pairs and outlier scores of already computed features.

    `labels_from` (a run's map): out-of-sample probabilities from a base that did not learn the labels, and the run's
    held-out predictions, used instead of a cross-validation on the run's own features (which fit the wrong labels).
    """
    timings = {}
    start = time.perf_counter()
    coordinates = project(embeddings.features, method, seed)
    span = float(np.ptp(coordinates, axis=0).max()) or 1.0  # one scale for both axes (the shape kept), so rounding
    coordinates = (coordinates - coordinates.min(axis=0)) / span  # to 4 decimals never merges points of a tiny map
    timings["projection_s"] = round(time.perf_counter() - start, 2)
    report(0.97, "label issues")
    start = time.perf_counter()
    where = {path: i for i, path in enumerate(labels_from.paths)} if labels_from is not None else {}
    if labels_from is not None and all(path in where for path in embeddings.paths) and \
            labels_from.class_names == embeddings.class_names:
        probabilities = labels_from.probabilities[[where[path] for path in embeddings.paths]]
        label_source = labels_from.describe()
    else:
        probabilities = out_of_sample_probabilities(embeddings.features, embeddings.labels,
                                                    len(embeddings.class_names), seed=seed,
                                                    report=lambda fraction, message: report(0.97, message))
        label_source = f"Probabilities: {SOURCE_CROSS_VALIDATED} for {len(embeddings.paths):,} (the map's features)."
    issues = rank_label_issues(embeddings.paths, embeddings.labels, probabilities, embeddings.class_names)
    timings["label_issues_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    if len(embeddings.paths) >= 2:
        report(0.98, "near-duplicates and outliers")
        pairs = duplicate_pairs(embeddings.root, embeddings.paths, embeddings.splits, embeddings.features,
                                lambda fraction, message: report(0.98, message))
        outliers = outlier_scores(neighbours=nearest_neighbours(embeddings.features))
    else:
        pairs, outliers = [], np.zeros(len(embeddings.paths))
    timings["duplicates_s"] = round(time.perf_counter() - start, 2)
    suggested = probabilities.argmax(axis=1)
    flagged = {issue.path for issue in issues if issue.flagged}
    points = {
        "path": embeddings.paths, "split": embeddings.splits,
        "label": [embeddings.class_names[i] for i in embeddings.labels],
        "x": np.round(coordinates[:, 0], 4).tolist(), "y": np.round(coordinates[:, 1], 4).tolist(),
        "issue_score": np.round(issue_scores(embeddings.labels, probabilities), 4).tolist(),
        "suggested": [embeddings.class_names[i] for i in suggested],
        "flagged": [path in flagged for path in embeddings.paths],
        "outlier_score": np.round(outliers, 4).tolist(),
        **_held_out(run_id, embeddings),
    }
    return {"root": embeddings.root, "class_names": embeddings.class_names, "images": len(embeddings.paths),
            "feature_dim": int(embeddings.features.shape[1]), "method": method, "points": points,
            "issues": [issue.to_dict() for issue in issues[:MAX_ISSUES_LISTED]],
            "flagged_issues": len(flagged), "label_source": label_source,
            "duplicates": [pair.to_dict() for pair in pairs[:MAX_PAIRS_LISTED]],
            "duplicate_pairs": len(pairs), "duplicate_rule": RULE, "leaking_pairs": sum(pair.leakage for pair in pairs),
            "timings": timings}


def analyse(config: EmbedConfig,
            report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Features (cached) then `analyse_embeddings`; the config is kept in the result."""
    start = time.perf_counter()
    embeddings = compute_embeddings(config, report)
    labels_from, label_note = None, None
    if config.run:
        from tlcore.backbones.weights import WeightsUnavailable

        try:
            labels_from = label_issue_report(config, lambda fraction, message: report(0.9, message))
        except WeightsUnavailable:  # said on the page: the map still comes, its label ranking is the weaker one
            label_note = ("The run's base weights are not available on this server, so label issues come from a "
                          "cross-validation on the run's own features, which learned these labels: a weaker ranking.")
    features_s = round(time.perf_counter() - start, 2)
    report(0.96, f"projecting {len(embeddings.paths):,} images ({config.method})")
    result = analyse_embeddings(embeddings, config.method, config.seed, config.run, report=report,
                                labels_from=labels_from)
    result["timings"]["features_s"] = features_s
    if label_note:
        result["label_source"] = f"{result['label_source']} {label_note}"
    report(1.0, "done")
    return {"config": config.to_dict(), **result}


def embedding_map_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task "embedding_map": params are an `EmbedConfig` as a dict."""
    return analyse(EmbedConfig.from_dict(params), report)


def latest_map_task(dataset: str, run_id: str | None = None) -> str | None:
    """The newest finished map task of `dataset` (of `run_id`'s features when given), so a reload or another visit
    shows the last map instead of an empty tab; None when there is none."""
    from tlcore.jobs.tasks import list_tasks
    from tlcore.runs.folders import FINISHED
    from tlcore.storage.atomic import read_json

    for task in list_tasks():
        try:
            spec = read_json(task.path / "task.json") or {}
            params = spec.get("params") or {}
            if spec.get("kind") == TASK_KIND and params.get("dataset") == dataset and \
                    params.get("run") == run_id and task.state == FINISHED:
                return task.id
        except (ValueError, OSError):  # a damaged task folder is not a map to show
            continue
    return None
