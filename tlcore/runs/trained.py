"""A finished run opened for use: its model, stored split, config and dataset folder, or one clear refusal.

Evaluating and exporting both start here, so both refuse a run without a model in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tlcore.config.training import TrainConfig
from tlcore.datasets.scan import scan_folder
from tlcore.datasets.split import Split
from tlcore.runs.folders import Run, get_run

__all__ = ["TrainedRun", "open_trained_run"]


@dataclass(frozen=True)
class TrainedRun:
    run: Run
    split: Split
    config: TrainConfig
    root: Path  # the dataset folder the split's paths are relative to


def open_trained_run(run_id: str, doing: str) -> TrainedRun:
    """The run with its split, config and dataset root. `doing` names the use in the refusal ("evaluate", "export").

    Raises:
        ValueError: the run has no stored split or no saved model yet.
    """
    run = get_run(run_id)
    split = run.split()
    if split is None or not run.model_path.exists():
        raise ValueError(f"Run {run_id} has no trained model to {doing} yet (state: {run.state}).")
    config = run.config()
    return TrainedRun(run, split, config, scan_folder(config.dataset).root)
