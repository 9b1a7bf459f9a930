"""A run is a folder a person can read with `cat`: config, status, history, split, model, class names, evaluation."""

from __future__ import annotations

import copy
import logging
import csv
import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

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
# A file last changed at least this long before it was read is "settled": a later change gets a later mtime (file
# clocks tick in jiffies, at most 10 ms), so an unchanged (inode, size, mtime, ctime) means unchanged content. A file
# changed just before it was read may change again within the same tick unseen (git's "racily clean" index entries):
# its content is not kept. Atomic replaces (every tlcore write) always change the inode, whatever the clock.
_SETTLED_NS = 100_000_000

_Value = TypeVar("_Value")


def _file_version(path: Path) -> tuple[int, int, int, int] | None:
    """(inode, size, mtime, ctime) of a file, or None when it cannot be looked at."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


@dataclass(frozen=True)
class Run:
    """One run folder. What it reads (config, status, owner, history, split, class names) is kept per version of the
    file, so a job step that asks ten times reads each file once: a stat tells whether the file changed since (another
    process wrote it, e.g. the worker's progress or the scheduler), and the run's own writes are kept as written."""

    path: Path
    _read: dict[str, tuple[tuple[int, int, int, int], Any]] = field(default_factory=dict, init=False, repr=False,
                                                                   compare=False)

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

    # --- reads kept per file version -------------------------------------------------------------------------------
    def _cached(self, name: str, read: Callable[[Path], _Value]) -> _Value:
        """`read(path)` of the run's file `name`, read again only when the file changed since (its version)."""
        path = self.path / name
        version = _file_version(path)
        kept = self._read.get(name)
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        read_at = time.time_ns()
        value = read(path)  # raises for a damaged file: nothing is kept, the next call reads (and raises) again
        if version is not None and version[2] < read_at - _SETTLED_NS:
            self._read[name] = (version, value)
        else:
            self._read.pop(name, None)
        return value

    def _wrote(self, name: str, value: Any) -> None:
        """After the run's own write of `name`: a read until the file changes again gives `value`."""
        version = _file_version(self.path / name)
        if version is None:
            self._read.pop(name, None)
        else:
            self._read[name] = (version, value)

    def config(self) -> TrainConfig:
        """The run's config, checked (tlcore.config.load_config); ConfigError names every damaged field."""
        return self._cached("config.json", load_config)  # frozen: shared, never copied

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
            record = self._cached(OWNER_FILE, lambda path: read_json(path, None))
        except (OSError, ValueError):  # a damaged owner file: nobody but an admin may act on it
            return "unknown"
        return parse_owner(record, LOCAL_USER)

    def record_owner(self, owner: str) -> None:
        record = {"owner": owner, "created_at": time.time()}
        write_json_atomic(self.path / OWNER_FILE, record)
        self._wrote(OWNER_FILE, record)

    def status(self) -> dict[str, Any]:
        """status.json as a dict; a damaged file reads as {"state": "damaged", "damaged": reason} so that one bad
        folder never stops a page, the monitor or a scheduler step."""
        path = self.path / "status.json"
        try:
            # every known field typed and in bounds, else damaged with the field's reason
            status = self._cached("status.json", lambda path: parse_status(read_json(path, {"state": "unknown"})))
        except (OSError, ValueError, RecursionError) as error:  # RecursionError: "[[[[…" nested too deep
            return {"state": DAMAGED, "damaged": damaged_reason(path, error)}
        return copy.deepcopy(status)  # the caller's to change

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
        self._wrote("status.json", parse_status(json.loads(json.dumps(current, default=str))))  # as a read gives it
        return current

    def class_names(self) -> list[str]:
        names = self._cached("classes.json", lambda path: read_json(path, default=[]))
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"classes.json of {self.id} is damaged: it must be a list of class names.")
        return list(names)

    def split(self) -> Split | None:
        split = self._cached("split.json", _read_split)
        return None if split is None else Split(list(split.class_names), list(split.train), list(split.val),
                                                list(split.test), list(split.excluded))  # items are immutable

    def write_split(self, split: Split) -> None:
        write_json_atomic(self.path / "split.json", split.to_dict())
        write_json_atomic(self.path / "classes.json", split.class_names)
        self._read.pop("split.json", None)
        self._read.pop("classes.json", None)

    def history(self) -> list[dict[str, float]]:
        """Per-epoch rows across all phases (epochs numbered on from earlier phases)."""
        rows = self._cached("history.csv", _read_history)
        return [dict(row) for row in rows]

    def write_history(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in HISTORY_COLUMNS})
        write_text_atomic(self.path / "history.csv", buffer.getvalue())
        self._read.pop("history.csv", None)

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


def _read_split(path: Path) -> Split | None:
    data = read_json(path)
    return Split.from_dict(data) if data else None


def _read_history(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(io.StringIO(text))]


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
