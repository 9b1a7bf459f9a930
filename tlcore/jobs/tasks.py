"""Background jobs other than training (backbone measurements, quick probes, …): same queue, same process model.

A task is a folder under `tasks/` holding task.json (kind and parameters), status.json and result.json.
Task functions are registered by kind as "module:function" and imported only inside the job process.
Each is called as `function(params: dict, report: Callable[[float, str], None]) -> dict` and its dict becomes
result.json; `report(fraction_done, message)` updates the progress shown on the page.
"""

from __future__ import annotations

import importlib
import time
from datetime import datetime
from typing import Any, Callable

from tlcore.runs.folders import LOCAL_USER, QUEUED, Run, folder_holds, check_folder_id, new_folder
from tlcore.runs.records import parse_task_spec
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import tasks_root

__all__ = [
    "TASK_KINDS", "TaskCancelled", "register_task", "create_task", "list_tasks", "get_task", "is_task",
    "task_result", "task_spec", "run_task", "sleep_task"
]

# kind → "module:function"; the target is stored in task.json when the task is created.
TASK_KINDS: dict[str, str] = {
    "sleep": "tlcore.jobs.tasks:sleep_task",
    "measure": "tlcore.backbones.measure:measure_task",
    "probe": "tlcore.backbones.probe:probe_task",
    "health": "tlcore.datasets.health:health_task",
    "tfds": "tlcore.datasets.tfds:tfds_task",
    "download_weights": "tlcore.backbones.download:download_task",
    "lr_finder": "tlcore.training.lr_finder:lr_finder_task",
    "evaluate": "tlcore.evaluation.metrics:evaluate_task",
    "export": "tlcore.inference.export:export_task",
    "batch_predict": "tlcore.inference.batch:batch_predict_task",
    "evaluate_external": "tlcore.evaluation.external:evaluate_external_task",
    "embedding_map": "tlcore.curation.analysis:embedding_map_task",
    "transferability": "tlcore.modeling.freeze_depth:transferability_task",
    "instant": "tlcore.labeling.instant:instant_task",
    "label_order": "tlcore.labeling.queue:label_order_task",
}


class TaskCancelled(Exception):
    """Raised from `report` when the user asked the task to stop."""


def register_task(kind: str, target: str) -> None:
    TASK_KINDS[kind] = target


def create_task(kind: str, params: dict[str, Any], owner: str = LOCAL_USER) -> Run:
    if kind not in TASK_KINDS:
        raise ValueError(f"Unknown task kind '{kind}'. Known: {', '.join(sorted(TASK_KINDS))}")
    root = tasks_root()
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    task = Run(new_folder(root, f"{stamp}_{kind}"))
    write_json_atomic(task.path / "task.json", {"kind": kind, "target": TASK_KINDS[kind], "params": params})
    task.record_owner(owner)
    task.update_status(state=QUEUED, queued_at=time.time(), pid=None, kind=kind)
    return task


def list_tasks() -> list[Run]:
    root = tasks_root()
    tasks = [Run(entry) for entry in root.iterdir() if folder_holds(entry, "task.json")]
    return sorted(tasks, key=lambda task: task.id, reverse=True)


def get_task(task_id: str) -> Run:
    """A task by id; KeyError for an invalid id or a folder that holds no task."""
    check_folder_id(task_id, "task")
    task = Run(tasks_root() / task_id)
    if not is_task(task):
        raise KeyError(f"No task '{task_id}' in {tasks_root()}.")
    return task


def is_task(folder: Run) -> bool:
    return folder_holds(folder.path, "task.json")


def task_spec(task: Run) -> dict[str, Any]:
    """task.json checked (tlcore.runs.records.parse_task_spec): ValueError when damaged or naming another target."""
    try:
        data = read_json(task.path / "task.json")
    except (OSError, ValueError) as error:
        raise ValueError(f"task.json of {task.id} cannot be read: {error}") from None
    return parse_task_spec(data, TASK_KINDS)


def task_result(task: Run) -> dict[str, Any] | None:
    """result.json; None when missing, ValueError when it is not an object."""
    result = read_json(task.path / "result.json")
    if result is not None and not isinstance(result, dict):
        raise ValueError(f"result.json of {task.id} is damaged: it holds {type(result).__name__}, not an object.")
    return result


def run_task(task: Run) -> dict[str, Any]:
    """Run the task's function in this process; returns {"cancelled": bool}."""
    spec = task_spec(task)
    module_name, function_name = spec["target"].split(":")
    function: Callable = getattr(importlib.import_module(module_name), function_name)

    def report(fraction: float, message: str) -> None:
        if task.cancel_path.exists():
            raise TaskCancelled()
        task.update_status(progress=round(float(fraction), 4), phase=message)

    try:
        result = function(spec["params"], report)
    except TaskCancelled:
        return {"cancelled": True}
    write_json_atomic(task.path / "result.json", result)
    return {"cancelled": False}


def sleep_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """A task that only waits and reports progress: lets tests and `--help` exercise the queue without TensorFlow."""
    steps = int(params.get("steps", 10))
    for step in range(steps):
        time.sleep(float(params.get("seconds_per_step", 0.1)))
        report((step + 1) / steps, f"step {step + 1}/{steps}")
    return {"steps": steps}
