"""What a job needs to run: some GPUs, or a place in one of two CPU lanes; written into its status.json when queued.

Training (and the tasks that train or time a model: LR finder, probe, measure) asks for GPUs: one by default when the
machine has any. On a machine without GPUs those jobs share the training lane, `TLSTUDIO_MAX_JOBS` at a time (default
1: two trainings on the same cores are each slower than one after the other). Exports, batch predictions, health
checks, evaluations and downloads need no GPU and run in the CPU lane (`TLSTUDIO_CPU_JOBS` at a time, default 2), so
a 30-second export never waits behind a two-hour training.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "TRAINING_LANE", "CPU_LANE", "CPU_TASK_KINDS", "Resources", "max_parallel_jobs", "cpu_lane_slots",
    "resources_for_training", "resources_for_task"
]

TRAINING_LANE, CPU_LANE = "training", "cpu"
CPU_TASK_KINDS = frozenset({"sleep", "health", "tfds", "download_weights", "evaluate", "export", "batch_predict",
                            "evaluate_external"})


@dataclass(frozen=True)
class Resources:
    """`gpus` GPUs (0: none), in `lane` ("training" or "cpu")."""

    gpus: int = 0
    lane: str = TRAINING_LANE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Resources":
        """From status.json; anything unreadable falls back to one training slot (never a crash in a scheduler step)."""
        if not isinstance(data, dict):
            return cls()
        try:
            gpus = max(0, int(data.get("gpus", 0)))
        except (TypeError, ValueError):
            gpus = 0
        lane = data.get("lane") if data.get("lane") in (TRAINING_LANE, CPU_LANE) else TRAINING_LANE
        return cls(gpus=gpus if lane == TRAINING_LANE else 0, lane=lane)

    def describe(self) -> str:
        if self.lane == CPU_LANE:
            return "CPU lane"
        return f"{self.gpus} GPU" + ("s" if self.gpus != 1 else "") if self.gpus else "CPU (training lane)"


def max_parallel_jobs() -> int:
    """Training-lane jobs without a GPU allowed at once (env `TLSTUDIO_MAX_JOBS`, default 1)."""
    return _positive_env("TLSTUDIO_MAX_JOBS", 1)


def cpu_lane_slots() -> int:
    """CPU-lane jobs allowed at once (env `TLSTUDIO_CPU_JOBS`, default 2)."""
    return _positive_env("TLSTUDIO_CPU_JOBS", 2)


def _positive_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, str(default))))
    except ValueError:
        return default


def resources_for_training(gpus: int | None, available: int, check_available: bool = True,
                           where: str = "this machine has") -> Resources:
    """A training job's needs: `gpus` when asked (checked against the `available` GPUs), else 1 GPU if any exist.

    `where` names what `available` counts in the refusal ("the largest node of the Ray cluster has").

    Raises:
        ValueError: a negative count, or more GPUs than are available (`check_available`; off when unknown).
    """
    if gpus is None:
        return Resources(gpus=1 if available else 0)
    if gpus < 0:
        raise ValueError("The number of GPUs cannot be negative.")
    if check_available and gpus > available:
        raise ValueError(f"This job asks for {gpus} GPU(s) but {where} {available}.")
    return Resources(gpus=gpus)


def resources_for_task(kind: str, available: int, gpus: int | None = None, lane: str | None = None) -> Resources:
    """A task's needs: the CPU lane for kinds that need no GPU, else like training (`gpus`, `lane` override them)."""
    if lane not in (None, TRAINING_LANE, CPU_LANE):
        raise ValueError(f"Unknown lane '{lane}': choose '{TRAINING_LANE}' or '{CPU_LANE}'.")
    if lane == CPU_LANE or (lane is None and kind in CPU_TASK_KINDS and not gpus):
        return Resources(lane=CPU_LANE)
    return resources_for_training(gpus, available, check_available=False)
