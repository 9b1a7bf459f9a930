"""RunProgress's ETA: the batches left from where training is, at the speed this process has trained.

Driven by hand with a fake clock, in the order Keras calls a callback; a resumed fit starts at the epoch
BackupAndRestore restored (fit's `epochs` stays the phase's last epoch).
"""

import pytest

from tlcore.config.training import TrainConfig
from tlcore.runs.folders import create_run


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from tlcore.training import callbacks

    fake = _Clock()
    monkeypatch.setattr(callbacks.time, "monotonic", fake)
    monkeypatch.setattr(callbacks, "PROGRESS_INTERVAL_S", 0.0)  # write status.json after every batch
    return fake


def _progress(run, epochs_in_phase: int, steps: int):
    from tlcore.training.callbacks import RunProgress

    progress = RunProgress(run, [], steps, phase=1, epochs_in_phase=epochs_in_phase)
    progress.set_params({"epochs": epochs_in_phase, "steps": steps, "verbose": 0})
    return progress


def _train_batches(progress, clock, count: int, seconds: float, first_batch: int = 0) -> None:
    for batch in range(first_batch, first_batch + count):
        clock.now += seconds
        progress.on_train_batch_end(batch, {"loss": 0.5})


def test_after_a_resume_the_eta_counts_only_the_epochs_still_to_train(studio_dirs, clock):
    """A 3-epoch phase of 4 batches resumed at epoch 3: 1 s per batch, one batch done → 3 s left (not 11 s)."""
    run = create_run(TrainConfig(dataset="pets", epochs=3))
    progress = _progress(run, epochs_in_phase=3, steps=4)
    clock.now += 30.0  # loading data and building the model before fit is not training time
    progress.on_train_begin()
    progress.on_epoch_begin(2)  # BackupAndRestore moved the initial epoch to 2 (0-based): epochs 1 and 2 are done

    _train_batches(progress, clock, 1, seconds=1.0)

    status = run.status()
    assert (status["epoch"], status["batch"], status["eta_seconds"]) == (3, 1, 3.0)
    _train_batches(progress, clock, 2, seconds=1.0, first_batch=1)
    assert run.status()["eta_seconds"] == 1.0


def test_a_fresh_phase_counts_every_epoch_and_the_etas_fall_as_it_trains(studio_dirs, clock):
    run = create_run(TrainConfig(dataset="pets", epochs=2))
    progress = _progress(run, epochs_in_phase=2, steps=5)
    progress.on_train_begin()
    etas = []
    for epoch in range(2):
        progress.on_epoch_begin(epoch)
        for batch in range(5):
            _train_batches(progress, clock, 1, seconds=2.0, first_batch=batch)
            etas.append(run.status()["eta_seconds"])

    assert etas == [18.0, 16.0, 14.0, 12.0, 10.0, 8.0, 6.0, 4.0, 2.0, 0.0]
