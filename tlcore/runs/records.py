"""The files of a run or task folder read as checked records: status.json, owner.json, task.json.

Each is parsed once, here, against the rules of its fields (tlcore.config.checks). A file that is not JSON, not an
object, or has a field of the wrong type or out of bounds (`{"state": "running", "pid": "abc"}`, `"queued_at":
"yesterday"`, `"epochs": "2"`) reads as state "damaged" with its reason ("pid must be a whole number …"), so that
one folder is shown as damaged and never stops a page, `python -m tlcore runs` or a scheduler step. Fields without a
rule (written by newer code) pass through unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tlcore.config.checks import (
    Rule,
    flag,
    object_of,
    one_of,
    optional,
    problems_of,
    real_number,
    shown_value,
    text,
    whole_number,
)

__all__ = ["STATES", "STATUS_RULES", "status_problems", "parse_status", "parse_owner", "parse_task_spec",
           "OWNER_UNKNOWN"]

STATES = ("queued", "running", "finished", "cancelled", "failed", "interrupted", "unknown")
OWNER_UNKNOWN = "unknown"  # a damaged owner file: nobody but an admin may act on the folder
_PID = whole_number(1, 2**31 - 1)
_TIME = real_number(0, 1e11)  # epoch seconds, up to the year 5138: "yesterday", NaN and 1e300 are refused
_COUNT = whole_number(0, 10**12)
_SHARE = real_number(0, 1)


def _device_list(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > 1024 or not all(
            isinstance(item, (str, int)) and not isinstance(item, bool) and len(str(item)) <= 64 for item in value):
        return f"must be a list of GPU ids (got {shown_value(value)})"
    return None


STATUS_RULES: dict[str, Rule] = {
    "state": one_of(*STATES),
    "phase": optional(text(2000)),
    "error": optional(text(200_000)),
    "error_type": optional(text(200)),
    "kind": optional(text(100)),
    "host": optional(text(255)),
    "ray_job_id": optional(text(255)),
    "visible_devices": optional(text(2000)),
    "pid": optional(_PID),
    "worker_pid": optional(_PID),
    "pid_started": optional(whole_number(0)),
    **{name: optional(_TIME) for name in ("queued_at", "dispatched_at", "started_at", "finished_at", "updated_at")},
    **{name: optional(_COUNT) for name in ("epoch", "epochs", "batch", "batches", "epochs_done", "first_epoch",
                                           "images_to_evaluate", "evaluated_images", "trainable_params",
                                           "resumed_from_epoch", "stage", "stages")},
    "eta_seconds": optional(real_number()),  # shown, never computed with: any finite number
    "val_accuracy": optional(_SHARE),
    "test_accuracy": optional(_SHARE),
    "progress": optional(real_number()),  # a task's own report; the banner clamps it to 0..1
    "never_started": optional(flag),
    "devices": optional(_device_list),
    "resources": optional(object_of({"gpus": whole_number(0, 1024), "lane": text(20)})),
    "waiting_process": optional(object_of({"pid": optional(_PID), "pid_started": optional(whole_number(0)),
                                         "host": optional(text(255))})),
    "step": optional(object_of({"phase": optional(text(2000)), "fraction": optional(real_number()),
                              "message": optional(text(2000))})),
    "dataset_changes": optional(object_of({"message": optional(text(100_000))})),
}


def status_problems(data: dict) -> list[str]:
    """Every field of a status dict its rule refuses, as "field reason"."""
    return problems_of(data, STATUS_RULES)


def parse_status(data: Any, name: str = "status.json") -> dict[str, Any]:
    """The status as a dict whose known fields have their types; else {"state": "damaged", "damaged": reason}."""
    if not isinstance(data, dict):
        return {"state": "damaged", "damaged": f"{name} holds {type(data).__name__}, not an object"}
    problems = status_problems(data)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return {"state": "damaged", "damaged": f"{name}: {problems[0]}{more}"}
    return {"state": "unknown", **data}


def parse_owner(data: Any, default: str) -> str:
    """The owner id an owner.json names: `default` when it names none, OWNER_UNKNOWN when it is not readable."""
    if data is None:
        return default
    if not isinstance(data, dict):
        return OWNER_UNKNOWN
    owner = data.get("owner")
    if owner is None or owner == "":
        return default
    return owner if text(320, empty=False)(owner) is None else OWNER_UNKNOWN


def parse_task_spec(data: Any, registered: dict[str, str], path: Path | None = None) -> dict[str, Any]:
    """task.json as {"kind", "target", "params"}; ValueError naming the field otherwise.

    The target must be the one registered for the kind: a task file edited to name another function
    ("os:system") is refused, never imported.
    """
    where = path.name if path is not None else "task.json"
    if not isinstance(data, dict):
        raise ValueError(f"{where} is damaged: it holds {type(data).__name__}, not an object")
    kind, target, params = data.get("kind"), data.get("target"), data.get("params", {})
    if not isinstance(kind, str) or kind not in registered:
        raise ValueError(f"{where} is damaged: kind {shown_value(kind)} is not a known task kind")
    if target != registered[kind]:
        raise ValueError(f"{where} is damaged: target {shown_value(target)} is not the function registered for "
                         f"{kind}")
    if not isinstance(params, dict):
        raise ValueError(f"{where} is damaged: params must be an object (got {shown_value(params)})")
    return {"kind": kind, "target": target, "params": params}
