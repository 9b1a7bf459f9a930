"""Nothing lost: per-epoch backups (Keras `BackupAndRestore`, saving only the state training changes) inside the run folder, and resuming from them.

A phase backs up its weights and epoch into `backup/phase-N/` at the end of every epoch. When the job process dies
(kill -9, a crash, a reboot), the run is marked interrupted; resuming re-runs the same config, Keras restores the last
completed epoch, and the history is cut back to that epoch so no epoch appears twice or goes missing. Where it goes
on (`backed_up_epoch`, `resume_epoch`) is read from the run folder by `tlcore.runs.resume`, so pages can say it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlcore.runs.folders import Run
from tlcore.runs.resume import BACKUP_FOLDER, backed_up_epoch

if TYPE_CHECKING:
    import keras

__all__ = ["BACKUP_FOLDER", "backup_dir", "backup_callback", "backed_up_epoch", "history_to_continue", "clear_backups"]


def backup_dir(run: Run, phase: int) -> Path:
    return run.path / BACKUP_FOLDER / f"phase-{phase}"


def backup_callback(run: Run, phase: int) -> "keras.callbacks.Callback":
    """Keras's BackupAndRestore saving only what training changes (`callbacks.ChangingStateBackup`), kept after the
    phase ends so a job killed while evaluating resumes there too."""
    from tlcore.training.callbacks import ChangingStateBackup

    return ChangingStateBackup(str(backup_dir(run, phase)))


def history_to_continue(run: Run, earlier_phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows a (possibly resumed) phase starts from.

    Fresh: the earlier phases' rows. Resumed: this run's own rows up to the backed-up epoch, since training goes on
    from there (a row written just before the kill but after the last backup is dropped, and trained again).
    """
    last_backup = backed_up_epoch(run)
    if last_backup is None:
        return list(earlier_phases)
    return [row for row in run.history() if int(row["epoch"]) <= last_backup]


def clear_backups(run: Run) -> None:
    """A finished or cancelled run needs no backup (they hold a full copy of the weights per phase)."""
    shutil.rmtree(run.path / BACKUP_FOLDER, ignore_errors=True)
