"""Training options end to end: optimizer, schedule, label smoothing, class weights and TensorBoard logs in one real
(tiny) run under MirroredStrategy on two logical CPUs. ("Show me the code": tests/unit/modeling/test_codegen.py.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlcore.config.training import TrainConfig
from tlcore.modeling.model import config_param_counts
from tlcore.training.fit import balanced_class_weights, schedule_callbacks

REPO = Path(__file__).resolve().parents[3]


def test_balanced_class_weights_follow_the_imbalance():
    weights = balanced_class_weights([0] * 30 + [1] * 10, 3)

    assert weights == {0: pytest.approx(40 / (2 * 30)), 1: pytest.approx(40 / (2 * 10)), 2: 1.0}


def test_schedule_and_early_stopping_are_keras_callbacks_watching_validation_loss():
    config = TrainConfig(dataset="d", lr_schedule="plateau", early_stopping_patience=3, restore_best=False,
                         learning_rate=0.01)

    plateau, stopping = schedule_callbacks(config, has_validation=True)

    assert type(plateau).__name__ == "ReduceLROnPlateau" and plateau.monitor == "val_loss"
    assert (plateau.factor, plateau.min_lr) == (0.5, pytest.approx(1e-4))
    assert type(stopping).__name__ == "EarlyStopping"
    assert (stopping.patience, stopping.restore_best_weights) == (3, False)
    assert schedule_callbacks(TrainConfig(dataset="d"), has_validation=False) == []
    assert schedule_callbacks(TrainConfig(dataset="d", early_stopping_patience=2), False)[0].monitor == "loss"


def _scalars(folder: Path) -> dict[str, list[float]]:
    import tensorflow as tf

    found: dict[str, list[float]] = {}
    for path in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
    return found


_ON_TWO_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tlcore.runs.folders import get_run
from tlcore.worker import run_job
print("STATE", run_job(get_run(sys.argv[1]), wait=False))
"""


def test_a_run_with_every_option_trains_on_two_devices_and_writes_tensorboard_logs(tiny_dataset, make_config,
                                                                                    tmp_path):
    """Two logical CPUs stand in for two GPUs: the same code path as MirroredStrategy over GPUs."""
    from tlcore.runs.folders import create_run

    config = make_config(tiny_dataset("three", classes=("0", "1", "2"), per_class=16), backbone="VGG16",
                         epochs=2, batch_size=8, fine_tune_at=15, optimizer="sgd", lr_schedule="cosine",
                         label_smoothing=0.1, hidden_units=8, pooling="max", class_weights=True,
                         early_stopping_patience=3)
    run = create_run(config)
    env = {**os.environ, "TLSTUDIO_DEVICES": "/cpu:0,/cpu:1", "PYTHONPATH": str(REPO)}

    done = subprocess.run([sys.executable, "-c", _ON_TWO_CPUS, run.id], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)

    assert "STATE finished" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    status = run.status()
    assert (status["replicas"], status["global_batch_size"], status["mixed_precision_used"]) == (2, 16, False)
    assert status["batches"] == -(-len(run.split().train) // 16)
    counts = config_param_counts(config, 3)
    assert (status["total_params"], status["trainable_params"]) == (counts.total, counts.trainable)
    assert set(status["class_weight"]) == {"0", "1", "2"}
    history = run.history()
    assert [row["epoch"] for row in history] == [1, 2]
    # Cosine decay over the 2 epochs: half the rate after the first, (almost) zero after the second.
    assert float(history[0]["learning_rate"]) == pytest.approx(0.5e-3, rel=0.05)
    assert float(history[1]["learning_rate"]) < 1e-5
    train_logs = _scalars(run.path / "tensorboard" / "train")
    assert len(train_logs["epoch_loss"]) == 2
    assert train_logs["epoch_loss"][0] == pytest.approx(float(history[0]["loss"]), rel=1e-4)
    assert len(_scalars(run.path / "tensorboard" / "validation")["epoch_accuracy"]) == 2
