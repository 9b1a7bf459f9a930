"""A run is a folder a person can read with `cat`: config, status, history, split, model, class names, evaluation."""

from __future__ import annotations

import logging
import csv
import io
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tlcore.config.checks import shown_value
from tlcore.config.training import TrainConfig, load_config
from tlcore.datasets.split import Split
from tlcore.runs.naming import readable_name
from tlcore.runs.records import parse_owner, parse_status
from tlcore.storage.atomic import read_json, write_json_atomic, write_text_atomic
from tlcore.storage.paths import runs_root

__all__ = [
    "QUEUED", "RUNNING", "FINISHED", "CANCELLED", "FAILED", "INTERRUPTED", "ACTIVE_STATES", "HISTORY_COLUMNS",
    "LOCAL_USER", "OWNER_FILE", "Run", "new_folder", "create_run", "check_folder_id", "get_run", "list_runs", "pid_alive",
    "DAMAGED", "damaged_reason", "MAX_ID_LENGTH", "folder_holds"
]

_log = logging.getLogger(__name__)  # details for admins (server folders), never shown on a page

QUEUED, RUNNING, FINISHED, CANCELLED, FAILED, INTERRUPTED = (
    "queued", "running", "finished", "cancelled", "failed", "interrupted")
ACTIVE_STATES = (QUEUED, RUNNING)
DAMAGED = "damaged"  # status.json cannot be read (truncated, empty, not an object): shown with its reason, never fatal
HISTORY_COLUMNS = ["epoch", "phase", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]
LOCAL_USER = "local"  # the owner of what was made with no sign-in configured (one user on their own machine)
OWNER_FILE = "owner.json"  # {"owner": user id (e-mail when signed in), "created_at": epoch seconds}
_RUN_ID = re.compile(r"[A-Za-z0-9_.-]+")  # matched whole (fullmatch): "$" alone would let a trailing newline in
MAX_ID_LENGTH = 200  # folder names stay well under the file system's 255 bytes (a 5,000-character ?run= is refused)


@dataclass(frozen=True)
class Run:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    # --- files -------------------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def model_path(self) -> Path:
        return self.path / "model.keras"

    @property
    def cancel_path(self) -> Path:
        return self.path / "cancel.request"

    @property
    def log_path(self) -> Path:
        return self.path / "worker.log"

    def config(self) -> TrainConfig:
        """The run's config, checked (tlcore.config.load_config); ConfigError names every damaged field."""
        return load_config(self.config_path)

    def config_problem(self) -> str | None:
        """Why config.json cannot be used, in one line ("damaged: epochs must be …"), or None when it can."""
        try:
            self.config()
        except ValueError as error:
            return f"damaged: {error}"
        return None

    @property
    def owner(self) -> str:
        """Who made this run or task: the id in owner.json; LOCAL_USER when absent (made before owners existed)."""
        try:
            record = read_json(self.path / OWNER_FILE, None)
        except (OSError, ValueError):  # a damaged owner file: nobody but an admin may act on it
            return "unknown"
        return parse_owner(record, LOCAL_USER)

    def record_owner(self, owner: str) -> None:
        write_json_atomic(self.path / OWNER_FILE, {"owner": owner, "created_at": time.time()})

    def status(self) -> dict[str, Any]:
        """status.json as a dict; a damaged file reads as {"state": "damaged", "damaged": reason} so that one bad
        folder never stops a page, the monitor or a scheduler step."""
        path = self.path / "status.json"
        try:
            status = read_json(path, default={"state": "unknown"})
        except (OSError, ValueError, RecursionError) as error:  # RecursionError: "[[[[…" nested too deep
            return {"state": DAMAGED, "damaged": damaged_reason(path, error)}
        return parse_status(status)  # every known field typed and in bounds, else damaged with the field's reason

    @property
    def state(self) -> str:
        return self.status().get("state", "unknown")

    def update_status(self, **changes: Any) -> dict[str, Any]:
        """Merge changes into status.json (atomic replace); only the run's own worker writes while it runs."""
        current = self.status()
        if current.get("state") == DAMAGED:  # rewritten whole: what could not be read is kept as a note only
            current = {"was_damaged": current.get("damaged")}
        current.update(changes, updated_at=time.time())
        write_json_atomic(self.path / "status.json", current)
        return current

    def class_names(self) -> list[str]:
        names = read_json(self.path / "classes.json", default=[])
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"classes.json of {self.id} is damaged: it must be a list of class names.")
        return names

    def split(self) -> Split | None:
        data = read_json(self.path / "split.json")
        return Split.from_dict(data) if data else None

    def write_split(self, split: Split) -> None:
        write_json_atomic(self.path / "split.json", split.to_dict())
        write_json_atomic(self.path / "classes.json", split.class_names)

    def history(self) -> list[dict[str, float]]:
        """Per-epoch rows across all phases (epochs numbered on from earlier phases)."""
        path = self.path / "history.csv"
        if not path.exists():
            return []
        rows = []
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            rows.append({key: _number(value) for key, value in row.items()})
        return rows

    def write_history(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in HISTORY_COLUMNS})
        write_text_atomic(self.path / "history.csv", buffer.getvalue())

    def evaluation(self, split_name: str = "test") -> dict[str, Any] | None:
        return read_json(self.path / "eval" / f"{split_name}.json")

    def write_evaluation(self, split_name: str, report: dict[str, Any]) -> None:
        write_json_atomic(self.path / "eval" / f"{split_name}.json", report)

    def describe(self) -> dict[str, Any]:
        """One row for run tables."""
        status = self.status()
        try:
            config, config_problem = self.config(), None
        except ValueError as error:
            config, config_problem = None, f"damaged: {error}"
        try:
            evaluation = self.evaluation()
        except (OSError, ValueError):
            evaluation = None
        accuracy = evaluation.get("accuracy") if isinstance(evaluation, dict) else None
        damaged = f"damaged: {status['damaged']}" if status.get("state") == DAMAGED else config_problem
        return {
            "run": self.id,
            "state": status.get("state", "unknown"),
            "backbone": config.backbone if config else None,
            "dataset": Path(config.dataset).name if config else None,
            "image_size": config.image_size if config else None,
            "epochs": status.get("epochs_done") or 0,
            "val_accuracy": status.get("val_accuracy"),
            "test_accuracy": accuracy if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool)
            else None,
            "fine_tune_of": config.parent_run if config else None,
            "damaged": damaged,
        }


def _number(value: str) -> float | str | None:
    if value in ("", None):
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def new_folder(root: Path, base_id: str) -> Path:
    """Create `root/base_id`, or `base_id-1`, `-2`, … when several are made in the same second (mkdir is atomic)."""
    for attempt in range(10_000):
        folder = root / (base_id if attempt == 0 else f"{base_id}-{attempt}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a new folder for {base_id} in {root}.")


def create_run(config: TrainConfig, owner: str = LOCAL_USER) -> Run:
    """Make a new run folder holding its config, its owner and a queued status; the id sorts by creation time."""
    root = runs_root()
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    suffix = "_finetune" if config.is_fine_tune else ""
    run = Run(new_folder(root, f"{stamp}_{config.backbone.lower()}{suffix}"))
    write_text_atomic(run.config_path, config.to_json() + "\n")
    run.record_owner(owner)
    run.update_status(state=QUEUED, queued_at=time.time(), pid=None, name=readable_name(config))
    return run


def check_folder_id(folder_id: str, what: str = "run") -> None:
    """Refuse ids that are not plain folder names (no '/', '..'), so a URL parameter cannot point elsewhere."""
    if not isinstance(folder_id, str) or not folder_id or len(folder_id) > MAX_ID_LENGTH or \
            not _RUN_ID.fullmatch(folder_id) or folder_id in (".", ".."):
        raise KeyError(f"{shown_value(folder_id)} is not a valid {what} id: ids are folder names of at most "
                       f"{MAX_ID_LENGTH} letters, digits, '.', '_' or '-'.")


def get_run(run_id: str) -> Run:
    """A run by id; refuses ids that are not plain folder names."""
    check_folder_id(run_id)
    path = runs_root() / run_id
    if not (path / "config.json").exists():
        _log.info("no run %r: %s has no config.json", run_id, path)
        raise KeyError(f"No run '{run_id}' on this server.")
    return Run(path)


def list_runs(states: tuple[str, ...] | None = None) -> list[Run]:
    """Runs, newest first, optionally only those in the given states."""
    root = runs_root()
    runs = [Run(entry) for entry in root.iterdir() if folder_holds(entry, "config.json")]
    runs.sort(key=lambda run: run.id, reverse=True)
    if states:
        runs = [run for run in runs if run.state in states]
    return runs


def folder_holds(folder: Path, name: str) -> bool:
    """True when `folder/name` exists; a folder whose name the file system refuses to look into is skipped."""
    try:
        return (folder / name).exists()
    except OSError:
        return False


def damaged_reason(path: Path, error: Exception) -> str:
    """Why a JSON file cannot be read, in words: empty, cut off, or unreadable."""
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    if size == 0:
        return f"{path.name} is empty"
    if isinstance(error, ValueError):
        return f"{path.name} is not valid JSON (cut off or overwritten): {error}"
    return f"{path.name} cannot be read: {error}"


def pid_alive(pid: int | None) -> bool:
    """True for a live process; zombies (finished, not yet reaped) count as dead."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
