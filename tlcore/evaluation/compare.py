"""Comparing runs: the config fields that differ between them next to their stored metrics, their learning curves,
and which run is the best one for its dataset (a `best.json` marker in the run folder; at most one per dataset)."""

from __future__ import annotations

import time
from typing import Any

from tlcore.runs.folders import Run, list_runs
from tlcore.storage.atomic import read_json, write_json_atomic

__all__ = [
    "BEST_MARKER", "BEST_BADGE", "is_best", "mark_best", "unmark_best", "best_run", "flat_config",
    "differing_fields", "comparison_rows", "histories"
]

BEST_MARKER = "best.json"
BEST_BADGE = "★ best"


def _dataset_of(run: Run) -> str:
    try:
        return run.config().dataset
    except ValueError:  # a damaged config.json: no dataset it could be best for
        return ""


def is_best(run: Run) -> bool:
    return (run.path / BEST_MARKER).exists()


def mark_best(run: Run) -> None:
    """Make `run` its owner's best of its dataset: the marker moves here from that owner's other runs of the same
    dataset only; another member's mark on the same dataset stays (each marks their own best)."""
    dataset = _dataset_of(run)
    for other in list_runs():
        if other.path != run.path and is_best(other) and _dataset_of(other) == dataset and other.owner == run.owner:
            (other.path / BEST_MARKER).unlink(missing_ok=True)
    write_json_atomic(run.path / BEST_MARKER, {"dataset": dataset, "marked_at": time.time()})


def unmark_best(run: Run) -> None:
    (run.path / BEST_MARKER).unlink(missing_ok=True)


def best_run(dataset: str) -> Run | None:
    return next((run for run in list_runs() if is_best(run) and _dataset_of(run) == dataset), None)


def flat_config(run: Run) -> dict[str, Any]:
    """config.json with nested settings as dotted names ("split.seed", "augmentation.flip")."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        else:
            flat[prefix[:-1]] = value

    walk("", read_json(run.config_path, default={}))
    return flat


def differing_fields(runs: list[Run]) -> list[str]:
    """Config fields whose value is not the same in every run, in config order."""
    configs = [flat_config(run) for run in runs]
    names = list(dict.fromkeys(name for config in configs for name in config))
    return [name for name in names if len({repr(config.get(name)) for config in configs}) > 1]


def comparison_rows(runs: list[Run], k: int = 2) -> list[dict[str, Any]]:
    """One row per run: id, best badge, the differing config fields, then the stored metrics (None if missing)."""
    fields = differing_fields(runs)
    rows = []
    for run in runs:
        config, report = flat_config(run), run.evaluation() or {}
        rows.append({
            "run": run.id,
            "best": BEST_BADGE if is_best(run) else "",
            **{name: config.get(name) for name in fields},
            "split": report.get("split"),
            "accuracy": report.get("accuracy"),
            "loss": report.get("loss"),
            f"top-{k} accuracy": (report.get("top_k_accuracy") or {}).get(str(k)),
            "ECE": (report.get("calibration") or {}).get("ece"),
        })
    return rows


def histories(runs: list[Run]) -> dict[str, list[dict[str, Any]]]:
    """Each run's per-epoch history, for overlaid learning curves (runs without one are left out)."""
    return {run.id: history for run in runs if (history := run.history())}
