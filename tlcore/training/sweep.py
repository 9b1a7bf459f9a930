"""Freeze-depth sweep: the same config at several freeze depths, queued as ordinary jobs, and the points to compare.

A sweep is a small JSON file under `$TLSTUDIO_HOME/sweeps/` naming its runs; each run is an ordinary run folder.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from tlcore.backbones.catalog import layer_table
from tlcore.config.training import TrainConfig
from tlcore.jobs import scheduler as jobs
from tlcore.runs.folders import LOCAL_USER, check_folder_id, get_run
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import studio_home

__all__ = ["sweeps_root", "submit_sweep", "list_sweeps", "load_sweep", "trainable_layers", "sweep_points"]


def sweeps_root():
    root = studio_home() / "sweeps"
    root.mkdir(parents=True, exist_ok=True)
    return root


def submit_sweep(config: TrainConfig, depths: list[int | None], owner: str = LOCAL_USER) -> str:
    """Queue one job per freeze depth (`fine_tune_at`; None = whole base frozen), all at once: the scheduler
    spreads them (fair share across owners). Returns the sweep id."""
    depths = list(dict.fromkeys(depths))  # each depth once, in the order given
    if len(depths) < 2:
        raise ValueError("A sweep needs at least two different freeze depths.")
    configs = [replace(config, fine_tune_at=depth) for depth in depths]  # a bad depth raises here: nothing queued
    runs = [{"run": jobs.submit(each, owner=owner).id, "fine_tune_at": each.fine_tune_at} for each in configs]
    sweep_id = f"{datetime.now().strftime('%Y-%m-%d_%H%M%S')}_{config.backbone.lower()}_sweep"
    write_json_atomic(sweeps_root() / f"{sweep_id}.json",
                      {"id": sweep_id, "created": time.time(), "config": config.to_dict(), "runs": runs})
    return sweep_id


def list_sweeps() -> list[str]:
    return sorted((path.stem for path in sweeps_root().glob("*.json")), reverse=True)


def load_sweep(sweep_id: str) -> dict[str, Any]:
    check_folder_id(sweep_id, "sweep")
    sweep = read_json(sweeps_root() / f"{sweep_id}.json")
    if sweep is None:
        raise KeyError(f"No sweep '{sweep_id}'.")
    return sweep


def trainable_layers(backbone_name: str, fine_tune_at: int | None) -> int:
    """Base layers that train (those with weights, from `fine_tune_at` on)."""
    if fine_tune_at is None:
        return 0
    return sum(1 for row in layer_table(backbone_name).layers[fine_tune_at:] if row.trainable + row.non_trainable)


def sweep_points(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """One point per run: its state, trainable layers/parameters and best validation accuracy of its own phase."""
    backbone = sweep["config"]["backbone"]
    points = []
    for entry in sweep["runs"]:
        try:
            run = get_run(entry["run"])
        except KeyError:
            continue  # the run was deleted
        state = jobs.refresh(run)
        status = run.status()
        history = run.history()
        own_phase = history[-1]["phase"] if history else None
        accuracies = [row["val_accuracy"] for row in history
                      if row["phase"] == own_phase and row.get("val_accuracy") is not None]
        points.append({"run": run.id, "state": state, "fine_tune_at": entry["fine_tune_at"],
                       "trainable_layers": trainable_layers(backbone, entry["fine_tune_at"]),
                       "trainable_params": status.get("trainable_params"),
                       "val_accuracy": max(accuracies) if accuracies else None,
                       "test_accuracy": status.get("test_accuracy")})
    return points
