"""tlcore.runs.resume and job_progress: where a resumed run goes on (what BackupAndRestore restores), and the bar."""

import pytest

from tlcore.config.training import TrainConfig
from tlcore.runs.folders import create_run
from tlcore.runs.progress import job_progress
from tlcore.runs.resume import BACKUP_FOLDER, BACKUP_METADATA, backed_up_epoch, resume_epoch
from tlcore.storage.atomic import write_json_atomic


def _backup(run, phase: int, epoch: int) -> None:
    """What keras.callbacks.BackupAndRestore writes at the end of an epoch (epochs completed, across phases)."""
    write_json_atomic(run.path / BACKUP_FOLDER / f"phase-{phase}" / BACKUP_METADATA, {"epoch": epoch, "batch": 0})


def test_resume_goes_on_after_the_last_backup_not_after_epochs_done(studio_dirs):
    """Killed after status.json said epoch 3 was done but before its backup was written: epoch 3 runs again."""
    run = create_run(TrainConfig(dataset="pets", epochs=5))
    run.update_status(state="interrupted", epochs_done=3)
    _backup(run, 1, 2)

    assert backed_up_epoch(run) == 2
    assert resume_epoch(run) == 3


def test_without_a_backup_a_run_starts_its_first_epoch_again(studio_dirs):
    run = create_run(TrainConfig(dataset="pets", epochs=5))
    run.update_status(state="failed", epochs_done=1)

    assert backed_up_epoch(run) is None and resume_epoch(run) == 1


def test_a_fine_tuning_run_numbers_on_from_its_parent_and_the_latest_phase_wins(studio_dirs):
    parent = create_run(TrainConfig(dataset="pets", epochs=4))
    parent.write_history([{"epoch": epoch, "phase": 1} for epoch in range(1, 5)])
    child = create_run(parent.config().fine_tune(parent_run=parent.id, fine_tune_at=10, epochs=6))
    assert resume_epoch(child) == 5  # killed in its first epoch: epoch 5 again

    _backup(child, 2, 6)  # gradual unfreezing: a phase per stage, each with its own backup
    _backup(child, 3, 8)
    assert resume_epoch(child) == 9


def test_the_bar_shows_images_evaluated_while_evaluating():
    status = {"phase": "evaluating", "epochs": 3, "epoch": 3, "batch": 4, "batches": 4, "first_epoch": 1,
              "evaluated_images": 128, "images_to_evaluate": 300}

    progress = job_progress(status)

    assert progress.fraction == pytest.approx(128 / 300)
    assert progress.text == "evaluating · 128/300 images"
    assert job_progress({**status, "phase": "training"}).fraction == 1.0  # epochs, as before
