"""Deleting (to the trash, so it can be undone), restoring and emptying, by those allowed; every step audited.

What can be deleted: runs and tasks (`delete_job`), a run's exports, uploaded zips and external models
(`delete_upload`), custom backbones and dataset folders; `deletable_items` lists those a user may delete, `delete_item` takes one by
kind and name, for the Storage page and `python -m tlcore delete --kind KIND NAME` alike.
"""

from __future__ import annotations

from pathlib import Path

from tlcore import jobs
from tlcore.access import LOCAL_USER_ID, User, can, record, require
from tlcore.backbones.custom import load_custom
from tlcore.inference import exports_dir
from tlcore.jobs import get_task
from tlcore.runs import ACTIVE_STATES, Run, get_run
from tlcore.storage import (
    CACHE_KINDS,
    TrashError,
    TrashItem,
    data_root,
    empty_trash,
    get_trash_item,
    move_to_trash,
    prune_caches,
    restore_from_trash,
)
from tlcore.storage.paths import resolve_dataset_path
from tlcore.storage.uploads import dataset_owner, dataset_owner_file, get_upload, list_uploads, owner_file

__all__ = ["DELETABLE_KINDS", "find_job", "deletable_jobs", "deletable_items", "item_labels", "delete_item",
           "delete_job", "delete_export", "delete_upload", "delete_dataset", "delete_custom_backbone", "restore",
           "empty", "prune"]

# kind (as the Storage page and the CLI name it) → what it is
DELETABLE_KINDS = {"run": "a training run or a task (by its id)", "export": "every exported file of a run",
                   "upload": "an uploaded zip or external model (by its file name)",
                   "backbone": "a custom backbone", "dataset": "a dataset folder under the data root"}


def find_job(job_id: str) -> Run:
    """A training run or a task by its folder name (the CLI and the Storage page take either).

    Raises:
        KeyError: neither a run nor a task has that id.
    """
    try:
        return get_run(job_id)
    except KeyError:
        try:
            return get_task(job_id)
        except KeyError:
            raise KeyError(f"No run or task '{job_id}'.") from None


def deletable_jobs(user: User) -> list[Run]:
    """Runs and tasks `user` may delete now (theirs, or any for an admin; not queued or running), newest first."""
    from tlcore.jobs.scheduler import all_jobs

    return [job for job in all_jobs()
            if can(user, "delete", job.owner) and jobs.refresh(job) not in ACTIVE_STATES]


def delete_job(user: User, run: Run) -> TrashItem:
    """Move a finished (or cancelled, failed) run or task to the trash; an active one must be cancelled first.

    Raises:
        NotAllowed: not the owner nor an admin. TrashError: the job is still queued or running.
    """
    require(user, "delete", run.owner, what=run.id)
    state = jobs.refresh(run)
    if state in ACTIVE_STATES:
        raise TrashError(f"{run.id} is {state}: cancel it first, then delete it once it has stopped.")
    kind = "task" if (run.path / "task.json").exists() else "run"
    item = move_to_trash(run.path, kind, user.id, owner=run.owner)
    record(user, "delete", run.id, kind=kind, trash_item=item.id, owner=run.owner)
    return item


def delete_export(user: User, run: Run) -> TrashItem:
    """Move a run's exports folder (every exported format) to the trash."""
    require(user, "delete", run.owner, what=f"the exports of {run.id}")
    item = move_to_trash(exports_dir(run), "export", user.id, owner=run.owner)
    record(user, "delete", run.id, kind="export", trash_item=item.id, owner=run.owner)
    return item


def delete_upload(user: User, name: str) -> TrashItem:
    """Move an uploaded zip or external model (and its owner record) to the trash; its owner or an admin may.

    Uploads kept before owners were recorded have none: only an admin may delete those.

    Raises:
        KeyError: no such upload. NotAllowed: not its owner nor an admin. TrashError: a queued or running task
            reads it.
    """
    upload = get_upload(name)
    require(user, "delete", upload.owner or None, what=f"the {upload.kind} {name}")
    readers = _tasks_reading(upload.path)
    if readers:
        raise TrashError(f"{name} is read by the task(s) {', '.join(readers)}, which are queued or running: wait for "
                         "them to end (or cancel them), then delete it.")
    item = move_to_trash(upload.path, "upload", user.id, owner=upload.owner, companions=(owner_file(upload.path),))
    record(user, "delete", name, kind="upload", upload_kind=upload.kind, trash_item=item.id, owner=upload.owner)
    return item


def delete_dataset(user: User, dataset: str) -> TrashItem:
    """Move a dataset folder under the data root to the trash: the member who uploaded it, or an admin (a folder
    put there another way has no recorded owner: admins only). Its uploader record goes with it."""
    path = resolve_dataset_path(dataset)
    if path == data_root():
        raise TrashError("The data root itself cannot be deleted; choose one dataset folder in it.")
    relative = path.relative_to(data_root())
    owner = dataset_owner(relative.parts[0]) if len(relative.parts) == 1 else ""
    require(user, "delete", owner or None, what=f"the dataset {path.name}")  # owner None: only an admin passes
    companions = (dataset_owner_file(relative.parts[0]),) if owner else ()
    item = move_to_trash(path, "dataset", user.id, owner=owner, companions=companions)
    record(user, "delete", str(relative), kind="dataset", trash_item=item.id, owner=owner)
    return item


def delete_custom_backbone(user: User, name: str) -> TrashItem:
    """Move an uploaded model cut as a backbone ("custom-…") to the trash; its owner is in its backbone.json."""
    backbone = load_custom(name)
    if backbone is None:
        raise KeyError(f"No custom backbone '{name}'.")
    folder = Path(backbone.folder)
    owner = _json_owner(folder / "backbone.json")
    require(user, "delete", owner, what=name)
    item = move_to_trash(folder, "backbone", user.id, owner=owner)
    from tlcore.backbones import layer_tables

    layer_tables.table_for.cache_clear()
    record(user, "delete", name, kind="backbone", trash_item=item.id, owner=owner)
    return item


def deletable_items(user: User) -> list[tuple[str, str]]:
    """(kind, name) of the exports, uploads, custom backbones and datasets `user` may delete."""
    from tlcore.backbones import custom_names
    from tlcore.runs import list_runs

    items = [("export", run.id) for run in list_runs()
             if exports_dir(run).exists() and can(user, "delete", run.owner)]
    items += [("upload", upload.name) for upload in list_uploads() if can(user, "delete", upload.owner or None)]
    items += [("backbone", name) for name in custom_names()
              if can(user, "delete", _json_owner(Path(load_custom(name).folder) / "backbone.json"))]
    items += [("dataset", folder.name) for folder in sorted(data_root().iterdir())
              if folder.is_dir() and not folder.name.startswith(".")
              and can(user, "delete", dataset_owner(folder.name) or None)]  # its uploader, or admins
    return items


def item_labels(items: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """What a person reads for each (kind, name) of `deletable_items`: an upload by its uploader's file name, when
    and how big (its stored name is a content hash), everything else by kind and name."""
    from datetime import datetime

    uploads = {upload.name: upload for upload in list_uploads()}
    labels = {}
    for kind, name in items:
        upload = uploads.get(name) if kind == "upload" else None
        if upload is None:
            labels[(kind, name)] = f"{kind}: {name}"
            continue
        when = datetime.fromtimestamp(upload.uploaded_at).strftime("%Y-%m-%d %H:%M")
        shown = f"{upload.shown_name} " if upload.shown_name else ""
        labels[(kind, name)] = (f"upload: {shown}({upload.kind} {name}, {when}, "
                                f"{upload.size_bytes / 1e6:,.1f} MB)")
    return labels


def delete_item(user: User, kind: str, name: str) -> TrashItem:
    """Delete one thing by kind (a key of DELETABLE_KINDS) and name, to the trash."""
    if kind == "run":
        return delete_job(user, find_job(name))
    if kind == "export":
        return delete_export(user, get_run(name))
    if kind == "upload":
        return delete_upload(user, name)
    if kind == "backbone":
        return delete_custom_backbone(user, name)
    if kind == "dataset":
        return delete_dataset(user, name)
    raise KeyError(f"Unknown kind '{kind}': {', '.join(DELETABLE_KINDS)}.")


def restore(user: User, item_id: str) -> Path:
    """Put a trashed item back where it was; its owner (or whoever deleted it, or an admin) may."""
    item = get_trash_item(item_id)
    owner = item.owner or item.deleted_by
    if item.deleted_by == user.id:
        owner = user.id
    require(user, "restore", owner, what=item.name)
    path = restore_from_trash(item_id)
    if item.kind == "backbone":  # a lookup made while it was in the trash must not hide it now
        from tlcore.backbones import layer_tables

        layer_tables.table_for.cache_clear()
    record(user, "restore", item.name, kind=item.kind, trash_item=item_id, to=str(path))
    return path


def empty(user: User, item_ids: list[str] | None = None) -> int:
    """Delete trashed items for good (admins); returns the bytes freed."""
    require(user, "empty_trash")
    freed = empty_trash(item_ids)
    record(user, "empty_trash", "", items=item_ids or "all", bytes_freed=freed)
    return freed


def prune(user: User, kinds: list[str] | None = None) -> int:
    """Delete caches that are rebuilt when needed (admins); returns the bytes freed."""
    require(user, "prune_caches")
    freed = prune_caches(kinds)
    record(user, "prune_caches", "", kinds=kinds or list(CACHE_KINDS), bytes_freed=freed)
    return freed


def _tasks_reading(path: Path) -> list[str]:
    """Ids of queued or running tasks whose parameters name `path` (a batch prediction reading an uploaded zip)."""
    import json

    from tlcore.jobs.scheduler import all_jobs
    from tlcore.storage.atomic import read_json

    readers = []
    for job in all_jobs():
        spec_path = job.path / "task.json"
        if not spec_path.exists() or jobs.refresh(job) not in ACTIVE_STATES:
            continue
        try:
            params = json.dumps((read_json(spec_path, {}) or {}).get("params", {}), default=str)
        except (OSError, ValueError, AttributeError):
            continue
        if str(path) in params:
            readers.append(job.id)
    return readers


def _json_owner(path: Path) -> str:
    from tlcore.storage.atomic import read_json

    data = read_json(path, {}) if path.exists() else {}
    owner = data.get("owner") if isinstance(data, dict) else None
    return owner or LOCAL_USER_ID
