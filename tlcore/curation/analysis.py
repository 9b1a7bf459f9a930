"""One background task ("embedding_map") for the data-centric loop: features → 2-D map, label issues, near-duplicates
and outliers, stored as the task's result so the pages only read and draw.

The result holds one column per field (`points`: path, split, label, x, y, issue score, suggested label, flagged,
outlier score, and for a run the held-out prediction: correct, confidence), which stays a few MB at 50k images.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from tlcore.curation.duplicates import DEFAULT_SIMILARITY, near_duplicates, nearest_neighbours, outlier_scores
from tlcore.curation.embeddings import EmbedConfig, Embeddings, compute_embeddings
from tlcore.curation.label_issues import issue_scores, out_of_sample_probabilities, rank_label_issues
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
                       min_similarity: float = DEFAULT_SIMILARITY,
                       report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """The map, ranked label issues, near-duplicate pairs and outlier scores of already computed features."""
    timings = {}
    start = time.perf_counter()
    coordinates = project(embeddings.features, method, seed)
    span = float(np.ptp(coordinates, axis=0).max()) or 1.0  # one scale for both axes (the shape kept), so rounding
    coordinates = (coordinates - coordinates.min(axis=0)) / span  # to 4 decimals never merges points of a tiny map
    timings["projection_s"] = round(time.perf_counter() - start, 2)
    report(0.97, "label issues")
    start = time.perf_counter()
    probabilities = out_of_sample_probabilities(embeddings.features, embeddings.labels, len(embeddings.class_names),
                                                seed=seed)
    issues = rank_label_issues(embeddings.paths, embeddings.labels, probabilities, embeddings.class_names)
    timings["label_issues_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    if len(embeddings.paths) >= 2:
        neighbours = nearest_neighbours(embeddings.features)  # one search for both
        pairs = near_duplicates(embeddings.paths, embeddings.splits, min_similarity=min_similarity,
                                neighbours=neighbours)
        outliers = outlier_scores(neighbours=neighbours)
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
            "flagged_issues": len(flagged),
            "duplicates": [pair.to_dict() for pair in pairs[:MAX_PAIRS_LISTED]],
            "duplicate_pairs": len(pairs), "leaking_pairs": sum(pair.leakage for pair in pairs),
            "timings": timings}


def analyse(config: EmbedConfig,
            report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Features (cached) then `analyse_embeddings`; the config is kept in the result."""
    start = time.perf_counter()
    embeddings = compute_embeddings(config, report)
    features_s = round(time.perf_counter() - start, 2)
    report(0.96, f"projecting {len(embeddings.paths):,} images ({config.method})")
    result = analyse_embeddings(embeddings, config.method, config.seed, config.run, report=report)
    result["timings"]["features_s"] = features_s
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
