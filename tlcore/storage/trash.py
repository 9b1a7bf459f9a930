"""Deleting with a way back: an item moves to `$TLSTUDIO_HOME/trash/` with a record of where it came from.

Each trashed item is a folder `trash/<id>/` holding `record.json` (original path, kind, who deleted it and when,
its owner), `item` (the run folder or file itself, moved, never copied and lost) and, for a file that has small
files beside it (an upload's `.owner.json`), those in `companions/`. Restore moves everything back unless something
new now lives there; only emptying the trash frees the space.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import studio_home

__all__ = ["TrashItem", "TrashError", "trash_root", "move_to_trash", "list_trash", "get_trash_item",
           "restore_from_trash", "empty_trash", "folder_size"]

RECORD = "record.json"
ITEM = "item"
COMPANIONS = "companions"


class TrashError(ValueError):
    """A trash operation that cannot be done as asked (nothing to trash, restore target taken, unknown item)."""


@dataclass(frozen=True)
class TrashItem:
    id: str
    kind: str  # "run", "task", "export", "upload", "dataset", "backbone"
    original: str
    deleted_by: str
    deleted_at: float
    owner: str
    size_bytes: int = 0

    @property
    def name(self) -> str:
        return Path(self.original).name

    def to_row(self) -> dict:
        return {**asdict(self), "deleted_at": datetime.fromtimestamp(self.deleted_at).strftime("%Y-%m-%d %H:%M")}


def trash_root() -> Path:
    root = studio_home() / "trash"
    root.mkdir(parents=True, exist_ok=True)
    return root


def move_to_trash(path: str | Path, kind: str, deleted_by: str, owner: str = "",
                  companions: tuple[Path, ...] = ()) -> TrashItem:
    """Move a file or folder into the trash (the record is written first, so a crash never leaves an anonymous item).

    Args:
        companions: files that belong with `path` (beside it, not inside it); those that exist go and come back
            with it.

    Raises:
        TrashError: the path does not exist, or is already in the trash.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise TrashError(f"Nothing to delete at {path}.")
    if trash_root() in path.resolve().parents:
        raise TrashError(f"{path.name} is already in the trash.")
    folder = _new_item_folder(path.name)
    present = [Path(companion) for companion in companions if Path(companion).exists()]
    record = {"kind": kind, "original": str(path.absolute()), "deleted_by": deleted_by, "deleted_at": time.time(),
              "owner": owner, "companions": [str(companion.absolute()) for companion in present]}
    write_json_atomic(folder / RECORD, record)
    try:
        shutil.move(str(path), str(folder / ITEM))
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if present:
        (folder / COMPANIONS).mkdir()
        for companion in present:
            shutil.move(str(companion), str(folder / COMPANIONS / companion.name))
    return _item(folder)


def list_trash() -> list[TrashItem]:
    """Items in the trash, most recently deleted first (folders without a readable record are skipped)."""
    items = [_item(folder) for folder in trash_root().iterdir() if (folder / RECORD).exists()]
    return sorted((item for item in items if item), key=lambda item: item.deleted_at, reverse=True)


def get_trash_item(item_id: str) -> TrashItem:
    folder = trash_root() / item_id
    if "/" in item_id or item_id in ("", ".", "..") or not (folder / RECORD).exists():
        raise TrashError(f"No item '{item_id}' in the trash.")
    return _item(folder)


def restore_from_trash(item_id: str) -> Path:
    """Move an item back where it was; returns that path.

    Raises:
        TrashError: unknown item, or something else now exists at the original place (nothing is overwritten).
    """
    item = get_trash_item(item_id)
    original = Path(item.original)
    if original.exists() or original.is_symlink():
        raise TrashError(f"Cannot restore {item.name}: {original} exists again. Move or delete that first.")
    folder = trash_root() / item_id
    record = read_json(folder / RECORD, {})
    companions = [Path(companion) for companion in record.get("companions", [])
                  if (folder / COMPANIONS / Path(companion).name).exists()]
    taken = [str(companion) for companion in companions if companion.exists()]
    if taken:
        raise TrashError(f"Cannot restore {item.name}: {', '.join(taken)} exists again. Move or delete that first.")
    original.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder / ITEM), str(original))
    for companion in companions:
        shutil.move(str(folder / COMPANIONS / companion.name), str(companion))
    shutil.rmtree(folder, ignore_errors=True)
    return original


def empty_trash(item_ids: list[str] | None = None) -> int:
    """Delete trashed items for good (all, or those listed); returns the bytes freed."""
    freed = 0
    for item in list_trash():
        if item_ids is None or item.id in item_ids:
            freed += item.size_bytes
            shutil.rmtree(trash_root() / item.id, ignore_errors=True)
    return freed


def folder_size(path: Path) -> int:
    """Bytes of a file or of everything below a folder (links not followed: a link is counted, not its target)."""
    try:
        if path.is_symlink() or path.is_file():
            return path.lstat().st_size
    except OSError:
        return 0
    total = 0
    for entry in path.rglob("*"):
        try:
            if entry.is_symlink() or entry.is_file():
                total += entry.lstat().st_size
        except OSError:
            continue
    return total


def _new_item_folder(name: str) -> Path:
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    for attempt in range(10_000):
        folder = trash_root() / (f"{stamp}_{name}" if attempt == 0 else f"{stamp}_{name}-{attempt}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise TrashError(f"Could not make a trash folder for {name}.")


def _item(folder: Path) -> TrashItem | None:
    record = read_json(folder / RECORD, None) if (folder / RECORD).exists() else None
    if not isinstance(record, dict):
        return None
    return TrashItem(id=folder.name, kind=str(record.get("kind", "")), original=str(record.get("original", "")),
                     deleted_by=str(record.get("deleted_by", "")), deleted_at=float(record.get("deleted_at", 0)),
                     owner=str(record.get("owner", "")), size_bytes=folder_size(folder / ITEM))
