"""The cleaner: keep, relabel (move to another class folder), exclude (move to the quarantine folder) and undo.

Every action is one entry of the dataset's cleaning log (who, when, what, from, to), kept in the dataset folder
(`.tlstudio-cleaning.json`, written atomically) so it travels with the images. Files are only ever moved (`os.rename`
inside the dataset folder), never deleted or overwritten, and every move can be undone. The quarantine folder
`_excluded/` sits beside the class folders; the scan ignores folders starting with "_" or ".", so an excluded image is
no longer part of the dataset. All actions live in this module so permission checks (owners and roles) are wired in one
place: each takes the `actor` (user id, "local" without sign-in) and records it.

Refused with `CleaningRefused` (a plain message): a built-in or downloaded dataset (the sample digits, a TFDS folder:
TL Studio wrote them and may rewrite them; recognised by where the folder really is, the place TL Studio writes them, so a
`cp -r` copy elsewhere, marker file and all, is an ordinary dataset of its owner), a path outside the dataset folder, an unknown class, a file that is not
where the log says, and a move onto an existing file.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from tlcore.datasets.sample import SAMPLE_NAME
from tlcore.datasets.scan import SPLIT_FOLDERS, scan_folder
from tlcore.datasets.tfds import CATALOG, folder_name
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import is_inside, resolve_dataset_path

__all__ = [
    "LOCAL_ACTOR", "QUARANTINE", "LOG_NAME", "KEEP", "RELABEL", "EXCLUDE", "UNDO", "CleaningRefused", "Action",
    "is_read_only", "log_path", "history", "kept", "keep", "relabel", "exclude", "undo", "moved_files",
    "describe", "undoable", "planned_moves", "current_paths", "open_issues"
]

LOCAL_ACTOR = "local"
QUARANTINE = "_excluded"
LOG_NAME = ".tlstudio-cleaning.json"
KEEP, RELABEL, EXCLUDE, UNDO = "keep", "relabel", "exclude", "undo"


class CleaningRefused(ValueError):
    """The action cannot be done; the message says why in a user's words. Nothing was moved."""


@dataclass(frozen=True)
class Action:
    """One line of the cleaning log. `source`/`target` are paths relative to the dataset folder ('' for keep)."""

    id: str
    kind: str
    source: str
    target: str
    actor: str
    at: float
    undoes: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _root(dataset: str | os.PathLike) -> Path:
    root = resolve_dataset_path(dataset)
    if not root.is_dir():
        raise CleaningRefused(f"'{root.name}' is not a dataset folder.")
    return root


def _managed_folders() -> set[str]:
    """Real paths of the folders TL Studio itself writes (the sample digits, each TFDS dataset) under the data root."""
    from tlcore.storage.paths import data_root

    names = [SAMPLE_NAME, *(folder_name(name) for name in CATALOG)]
    return {os.path.realpath(data_root() / name) for name in names}


def _is_managed(root: Path) -> bool:
    """Where the data came from, not what it carries: a copy of the sample (marker included) lives elsewhere."""
    return os.path.realpath(root) in _managed_folders()


def _writable_root(dataset: str | os.PathLike) -> Path:
    root = _root(dataset)
    if _is_managed(root):
        raise CleaningRefused(f"'{root.name}' is a built-in or downloaded dataset that TL Studio manages; it is "
                              "read-only. Copy it to a folder of your own under the data root to clean it.")
    return root


def is_read_only(dataset: str | os.PathLike) -> bool:
    """True for the built-in or a downloaded dataset where TL Studio wrote it (the cleaner refuses to move its files)."""
    return _is_managed(_root(dataset))


def log_path(dataset: str | os.PathLike) -> Path:
    return _root(dataset) / LOG_NAME


def history(dataset: str | os.PathLike) -> list[Action]:
    """Every action on this dataset, oldest first."""
    entries = read_json(log_path(dataset), default={}).get("actions", [])
    return [Action(**entry) for entry in entries]


def _record(root: Path, action: Action) -> Action:
    path = root / LOG_NAME
    entries = read_json(path, default={}).get("actions", [])
    write_json_atomic(path, {"dataset": str(root), "actions": [*entries, action.to_dict()]},
                      what="the dataset's cleaning log")
    return action


def _new(kind: str, source: str, target: str, actor: str, undoes: str | None = None) -> Action:
    if not isinstance(actor, str) or not actor:
        raise CleaningRefused("An action needs the id of who does it.")
    return Action(uuid.uuid4().hex[:12], kind, source, target, actor, time.time(), undoes)


def _inside(root: Path, relative: str) -> Path:
    """The file's path, refused unless it stays inside the dataset folder (no '..', no absolute path, no link out)."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise CleaningRefused(f"'{relative}' is not a path inside the dataset folder.")
    path = root / pure
    if not is_inside(Path(os.path.realpath(path.parent)), root):
        raise CleaningRefused(f"'{relative}' leads outside the dataset folder.")
    return path


def _class_of(root: Path, relative: str) -> tuple[str, str, str]:
    """(split folder prefix or '', class name, file name) of a file of the dataset; refused for any other path."""
    parts = PurePosixPath(relative).parts
    if len(parts) >= 3 and parts[0].lower() in SPLIT_FOLDERS:
        return parts[0] + "/", parts[1], "/".join(parts[2:])
    if len(parts) >= 2 and not parts[0].startswith(("_", ".")):
        return "", parts[0], "/".join(parts[1:])
    raise CleaningRefused(f"'{relative}' is not an image in a class folder of this dataset.")


def _move(root: Path, source: str, target: str) -> None:
    source_path, target_path = _inside(root, source), _inside(root, target)
    if not source_path.is_file() or source_path.is_symlink():
        raise CleaningRefused(f"'{source}' is not a file in the dataset folder (moved or removed since?).")
    if target_path.exists() or target_path.is_symlink():
        raise CleaningRefused(f"'{target}' already exists; nothing is overwritten. Rename one of the files first.")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source_path, target_path)  # inside one folder tree: atomic, and nothing is copied or deleted


def keep(dataset: str | os.PathLike, relative: str, actor: str = LOCAL_ACTOR) -> Action:
    """Remember that this flagged image is right as it is (the page stops suggesting it)."""
    root = _writable_root(dataset)
    _class_of(root, relative)
    if not _inside(root, relative).is_file():
        raise CleaningRefused(f"'{relative}' is not a file in the dataset folder.")
    return _record(root, _new(KEEP, relative, relative, actor))


def relabel(dataset: str | os.PathLike, relative: str, new_class: str, actor: str = LOCAL_ACTOR) -> Action:
    """Move the image to the folder of `new_class` (an existing class; same split folder for a pre-split dataset)."""
    root = _writable_root(dataset)
    prefix, old_class, name = _class_of(root, relative)
    classes = scan_folder(root).class_names
    if new_class not in classes:
        raise CleaningRefused(f"'{new_class}' is not a class of '{root.name}' (classes: {', '.join(classes)}).")
    if new_class == old_class:
        raise CleaningRefused(f"'{relative}' is already in class '{new_class}'.")
    target = f"{prefix}{new_class}/{name}"
    _move(root, relative, target)
    return _record(root, _new(RELABEL, relative, target, actor))


def exclude(dataset: str | os.PathLike, relative: str, actor: str = LOCAL_ACTOR) -> Action:
    """Move the image into `_excluded/` (its path kept below it), out of the dataset; undo brings it back."""
    root = _writable_root(dataset)
    _class_of(root, relative)
    target = f"{QUARANTINE}/{relative}"
    _move(root, relative, target)
    return _record(root, _new(EXCLUDE, relative, target, actor))


def undo(dataset: str | os.PathLike, action_id: str, actor: str = LOCAL_ACTOR) -> Action:
    """Reverse one action (a move goes back, a keep is forgotten); recorded as an action of its own."""
    root = _writable_root(dataset)
    actions = history(root)
    original = next((action for action in actions if action.id == action_id), None)
    if original is None or original.kind == UNDO:
        raise CleaningRefused(f"No action '{action_id}' to undo in this dataset's cleaning log.")
    if any(action.undoes == action_id for action in actions):
        raise CleaningRefused(f"Action '{action_id}' was already undone.")
    later = [a for a in actions[actions.index(original) + 1:] if a.kind in (RELABEL, EXCLUDE)
             and a.source == original.target and not any(u.undoes == a.id for u in actions)]
    if original.kind != KEEP and later:
        raise CleaningRefused(f"'{original.target}' was moved again afterwards; undo that action first.")
    if original.kind != KEEP:
        _move(root, original.target, original.source)
    return _record(root, _new(UNDO, original.target, original.source, actor, undoes=action_id))


def _live(dataset: str | os.PathLike) -> list[Action]:
    actions = history(dataset)
    undone = {action.undoes for action in actions if action.kind == UNDO}
    return [action for action in actions if action.kind != UNDO and action.id not in undone]


def kept(dataset: str | os.PathLike) -> set[str]:
    """Files marked keep (and not undone): no longer suggested."""
    return {action.source for action in _live(dataset) if action.kind == KEEP}


def moved_files(dataset: str | os.PathLike) -> dict[str, str]:
    """{original path: where it is now} for every move still in effect (chains followed: a → b → c gives a: c)."""
    where: dict[str, str] = {}
    for action in _live(dataset):
        if action.kind in (RELABEL, EXCLUDE):
            origin = next((first for first, now in where.items() if now == action.source), action.source)
            where[origin] = action.target
    return where


def describe(action: Action) -> str:
    """What an action did, in the words of the undo list: "moved 1/digit_0093.png 1 → 9"."""
    if action.kind == RELABEL:
        old, new = PurePosixPath(action.source).parent.name, PurePosixPath(action.target).parent.name
        return f"moved {action.source} {old} → {new}"
    if action.kind == EXCLUDE:
        return f"excluded {action.source} (now in {QUARANTINE}/)"
    if action.kind == KEEP:
        return f"kept {action.source} as it is"
    return f"undid: {action.source} → {action.target}"


def undoable(dataset: str | os.PathLike) -> list[Action]:
    """Actions `undo` would accept now, newest first: not undone, not an undo, and (for a move) not moved again."""
    live = _live(dataset)
    result = []
    for index, action in enumerate(live):
        later = [a for a in live[index + 1:] if a.kind in (RELABEL, EXCLUDE) and a.source == action.target]
        if action.kind == KEEP or not later:
            result.append(action)
    return list(reversed(result))


def planned_moves(paths: list[str], operation: str, new_class: str | None = None) -> list[str]:
    """One line per file the operation would touch, shown before the click ("1/a.png 1 → 9")."""
    lines = []
    for path in paths:
        pure = PurePosixPath(path)
        if operation == RELABEL:
            lines.append(f"{path} {pure.parent.name} → {new_class}")
        elif operation == EXCLUDE:
            lines.append(f"{path} → {QUARANTINE}/{path}")
        else:
            lines.append(f"{path} stays (kept)")
    return lines


def current_paths(dataset: str | os.PathLike, paths: list[str]) -> list[str]:
    """Where each file of a (possibly older) map is now, by the action log: moves followed, excluded ones under
    `_excluded/`. The map need not be recomputed after a click."""
    where = moved_files(dataset)
    return [where.get(path, path) for path in paths]


def open_issues(dataset: str | os.PathLike, paths: list[str], flagged: list[bool]) -> list[int]:
    """Rows of the map still flagged: neither moved (relabelled or excluded) nor kept since the map was made."""
    where, keeps = moved_files(dataset), kept(dataset)
    return [i for i, (path, flag) in enumerate(zip(paths, flagged)) if flag and path not in where
            and path not in keeps]
