"""Where a resumed run goes on from: the epoch Keras' `BackupAndRestore` restores, read from the run's backups.

Each phase backs up into `backup/phase-N/`; Keras writes `training_metadata.json` there after every completed epoch
as {"epoch": E, "batch": 0}, E counting completed epochs across phases (fit's epochs are numbered on). Resuming
restores those weights and sets the model's initial epoch to E, so training goes on at epoch E + 1 (1-based).
`status.json`'s `epochs_done` is written before the backup at the end of an epoch, so it can be one ahead of it.
"""

from __future__ import annotations

from tlcore.runs.folders import Run, get_run
from tlcore.storage.atomic import read_json

__all__ = ["BACKUP_FOLDER", "BACKUP_METADATA", "backed_up_epoch", "epochs_before", "resume_epoch"]

BACKUP_FOLDER = "backup"
BACKUP_METADATA = "training_metadata.json"  # Keras BackupAndRestore's own file name


def backed_up_epoch(run: Run) -> int | None:
    """The last epoch (numbered across phases) any phase of this run backed up, or None when there is no backup."""
    epochs = []
    for path in (run.path / BACKUP_FOLDER).glob(f"*/{BACKUP_METADATA}"):
        try:
            epoch = read_json(path, default={}).get("epoch")
        except (OSError, ValueError, AttributeError):  # a damaged backup record: that phase has no usable backup
            continue
        if isinstance(epoch, int) and not isinstance(epoch, bool) and 0 <= epoch <= 10**6:
            epochs.append(epoch)
    return max(epochs) if epochs else None


def epochs_before(run: Run) -> int:
    """Epochs trained before this run's first phase: its parent's last epoch for a fine-tuning run, else 0."""
    try:
        parent = run.config().parent_run
    except ValueError:  # a damaged config.json: resuming refuses it with its reason (tlcore.jobs.resume)
        return 0
    if not parent:
        return 0
    try:
        history = get_run(parent).history()
    except (KeyError, OSError, ValueError):  # the parent was deleted or is damaged
        return 0
    epoch = history[-1].get("epoch") if history else None
    return int(epoch) if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) and 0 <= epoch < 1e6 else 0


def resume_epoch(run: Run) -> int:
    """The epoch (1-based, numbered across phases) that training goes on at when this run is resumed.

    The last backed-up epoch + 1; without a backup (killed during its first epoch) the run starts its first epoch again.
    """
    backed_up = backed_up_epoch(run)
    return (epochs_before(run) if backed_up is None else backed_up) + 1
