"""Every training mode on two devices: plain, fast frozen phase, fine-tune, gradual unfreezing, resume and the LR
finder, each on two logical CPUs under MirroredStrategy (the code path of two GPUs), in one job process per step as
a user's jobs run. Two subprocesses in all (TensorFlow starts twice): the first runs every mode and hangs inside the
second stage of one more gradual run, which is killed there (-9); the second resumes it and runs the LR finder."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tlcore.config.training import GradualUnfreezing, TrainConfig
from tlcore.jobs import scheduler
from tlcore.modeling.model import config_param_counts, count_params
from tlcore.runs.folders import Run, create_run
from tlcore.training import unfreezing
from tlcore.training.fault_injection import FAULT_ENV

REPO = Path(__file__).resolve().parents[3]
DEVICES = "/cpu:0,/cpu:1"
BACKBONE = "VGG16"  # 19 layers: quick to trace on every replica, and quick at 32 px
PLAIN_FROM, FINE_TUNE_FROM = 15, 11  # block5 trains; then block4 and block5
BATCH = 8  # per replica: the global batch is 16
GRADUAL = GradualUnfreezing(stages=2, blocks_per_stage=1, epochs_per_stage=1, lr_factor=0.5)
HANG_IN_EPOCH = 3  # the killed gradual run: epoch 1 is its parent's, 2 is stage 1, 3 is stage 2

# One job process on two logical CPUs: runs the jobs named on the command line in order (run_job, as the worker
# does); "hang" before a run id makes that one hang inside epoch HANG_IN_EPOCH; "lr" runs the LR finder task.
_DRIVER = """
import json, os, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tlcore.runs.folders import get_run
from tlcore.training.lr_finder import lr_finder_task
from tlcore.worker import run_job
for word in sys.argv[1:]:
    if word == "hang":
        os.environ[%(fault)r] = "hang_in_epoch:%(epoch)d"
    elif word.startswith("lr:"):
        result = lr_finder_task({"config": json.loads(open(word[3:]).read()), "steps": 12}, lambda *_: None)
        print("LR", json.dumps({key: result[key] for key in ("suggested", "losses", "replicas", "global_batch_size")}),
              flush=True)
    else:
        print("STATE", word, run_job(get_run(word), wait=False), flush=True)
""" % {"fault": FAULT_ENV, "epoch": HANG_IN_EPOCH}


@dataclass
class TwoDeviceRuns:
    plain: Run
    fast: Run
    fine_tune: Run
    gradual: Run
    resumed: Run
    before_kill: list[dict]  # the resumed run's history when it was killed
    lr_finder: dict
    output: str  # both processes' stdout and stderr


def _link_subset(source: Path, target: Path, classes: tuple[str, ...], per_class: int) -> None:
    for name in classes:
        (target / name).mkdir(parents=True)
        for image in sorted((source / name).glob("*.png"))[:per_class]:
            os.link(image, target / name / image.name)


def _driver(log: Path, *words: str) -> subprocess.Popen:
    """The driver in a process of its own, its output (stdout and stderr) in `log`."""
    env = {**os.environ, "TLSTUDIO_DEVICES": DEVICES, "PYTHONPATH": str(REPO)}
    env.pop(FAULT_ENV, None)
    with open(log, "w") as output:
        return subprocess.Popen([sys.executable, "-c", _DRIVER, *words], stdout=output, stderr=subprocess.STDOUT,
                                text=True, env=env, cwd=str(REPO))


def _wait_until(run: Run, condition, process: subprocess.Popen, log: Path, timeout: float,
                until_exit: bool = False) -> None:
    """Until `condition(run.status())` holds (or, `until_exit`, the process ends); the process is ended on failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition(run.status()) or (until_exit and process.poll() is not None):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    process.wait()
    pytest.fail(f"run {run.id} never got there; status {run.status()}\n{log.read_text()[-6000:]}")


@pytest.fixture(scope="module")
def two_device_runs(tmp_path_factory, digits_master) -> TwoDeviceRuns:
    base = tmp_path_factory.mktemp("two-devices")
    with pytest.MonkeyPatch.context() as patch:
        for variable, name in (("TLSTUDIO_HOME", "home"), ("TLSTUDIO_DATA_ROOT", "data"),
                               ("TLSTUDIO_RUNS_DIR", "runs"), ("KERAS_HOME", "keras")):
            (base / name).mkdir()
            patch.setenv(variable, str(base / name))
        _link_subset(digits_master, base / "data" / "three", ("0", "1", "2"), 16)
        plain_config = TrainConfig(dataset="three", backbone=BACKBONE, image_size=32, epochs=1, batch_size=BATCH,
                                   weights="random", fine_tune_at=PLAIN_FROM)
        plain = create_run(plain_config)
        fast = create_run(replace(plain_config, fine_tune_at=None))
        fine_tune = create_run(plain_config.fine_tune(plain.id, fine_tune_at=FINE_TUNE_FROM, epochs=1))
        gradual = create_run(unfreezing.gradual_config(plain_config, plain.id, GRADUAL))
        resumed = create_run(unfreezing.gradual_config(plain_config, plain.id, GRADUAL))
        lr_path = base / "lr_config.json"  # the LR finder on the fast path's config (the head on cached features)
        lr_path.write_text(replace(plain_config, fine_tune_at=None).to_json())

        started = time.monotonic()
        first_log, second_log = base / "first.log", base / "second.log"
        first = _driver(first_log, plain.id, fast.id, fine_tune.id, gradual.id, "hang", resumed.id)
        _wait_until(resumed, lambda status: status.get("epoch") == HANG_IN_EPOCH and status.get("batch", 0) >= 1,
                    first, first_log, timeout=480)
        before_kill = resumed.history()
        os.kill(first.pid, signal.SIGKILL)  # as a crash or a reboot: no clean-up runs
        first.wait(timeout=60)
        scheduler.resume(resumed, start=False)  # as the Resume button: interrupted -> queued

        second = _driver(second_log, resumed.id, f"lr:{lr_path}")
        _wait_until(resumed, lambda status: False, second, second_log, timeout=300, until_exit=True)
        output = first_log.read_text() + second_log.read_text()
        print(f"two-device runs: {time.monotonic() - started:.0f} s")
        lr_lines = [line for line in output.splitlines() if line.startswith("LR ")]
        assert second.returncode == 0 and lr_lines, second_log.read_text()[-6000:]
        yield TwoDeviceRuns(plain, fast, fine_tune, gradual, resumed, before_kill, json.loads(lr_lines[0][3:]),
                            output)


@pytest.fixture
def runs(two_device_runs, monkeypatch) -> TwoDeviceRuns:
    """The module's runs, with the runs folder pointing at them (a fine-tuning run reads its parent's phases)."""
    monkeypatch.setenv("TLSTUDIO_RUNS_DIR", str(two_device_runs.plain.path.parent))
    return two_device_runs


def _finished_on_two_devices(run: Run, output: str) -> dict:
    status = run.status()
    assert status["state"] == "finished", f"{status.get('error')}\n{output[-4000:]}"
    assert (status["replicas"], status["global_batch_size"]) == (2, 2 * BATCH)
    assert all(math.isfinite(float(row["loss"])) for row in run.history())
    return status


def _epochs_and_phases(run: Run) -> list[tuple[int, int]]:
    return [(int(row["epoch"]), int(row["phase"])) for row in run.history()]


def test_plain_run_trains_on_two_devices(runs):
    status = _finished_on_two_devices(runs.plain, runs.output)

    assert _epochs_and_phases(runs.plain) == [(1, 1)]
    assert status["trainable_params"] == config_param_counts(runs.plain.config(), 3).trainable
    assert not status.get("fast_frozen_phase")


def test_fast_frozen_phase_runs_under_the_strategy_on_two_devices(runs):
    status = _finished_on_two_devices(runs.fast, runs.output)

    assert status["fast_frozen_phase"] is True  # the head trained on cached features, not the plain path
    assert _epochs_and_phases(runs.fast) == [(1, 1)]
    assert status["trainable_params"] == config_param_counts(runs.fast.config(), 3).trainable


def test_fine_tune_continues_its_parent_on_two_devices(runs):
    status = _finished_on_two_devices(runs.fine_tune, runs.output)

    assert _epochs_and_phases(runs.fine_tune) == [(1, 1), (2, 2)]
    assert status["trainable_params"] == count_params(BACKBONE, 3, FINE_TUNE_FROM).trainable


def _stage_trainable_counts() -> list[int]:
    return [count_params(BACKBONE, 3, unfreezing.stage_fine_tune_at(BACKBONE, stage, GRADUAL.blocks_per_stage)).trainable for stage in (1, 2)]


def test_gradual_unfreezing_recompiles_every_stage_on_two_devices(runs):
    status = _finished_on_two_devices(runs.gradual, runs.output)

    assert _epochs_and_phases(runs.gradual) == [(1, 1), (2, 2), (3, 3)]
    assert (status["stage"], status["stages"]) == (2, 2)
    trainable = [row["trainable params"] for row in unfreezing.phase_table(runs.gradual)]
    assert trainable == [runs.plain.status()["trainable_params"], *_stage_trainable_counts()]
    assert trainable[1] < trainable[2]  # stage 2 unfroze one more block


def test_resumed_gradual_run_continues_in_the_stage_it_was_killed_in(runs):
    status = _finished_on_two_devices(runs.resumed, runs.output)

    assert [(int(row["epoch"]), int(row["phase"])) for row in runs.before_kill] == [(1, 1), (2, 2)]
    assert status["resumed_from_epoch"] == 2
    assert _epochs_and_phases(runs.resumed) == [(1, 1), (2, 2), (3, 3)]
    assert runs.resumed.history()[:2] == runs.before_kill  # stage 1 was not trained again
    assert (status["stage"], status["stages"]) == (2, 2)
    trainable = [row["trainable params"] for row in unfreezing.phase_table(runs.resumed)]
    assert trainable[1:] == _stage_trainable_counts()


def test_lr_finder_sweeps_on_two_devices_with_the_global_batch(runs):
    assert (runs.lr_finder["replicas"], runs.lr_finder["global_batch_size"]) == (2, 2 * BATCH)
    assert len(runs.lr_finder["losses"]) == 12
    assert all(math.isfinite(loss) for loss in runs.lr_finder["losses"])


# --- the same strategy, XLA setting and dtype policy in every compile of a job ------------------------------------
@dataclass(frozen=True)
class CompileCall:
    model: str
    jit_compile: object
    model_policy: str
    global_policy: str
    in_job_strategy: bool  # compiled inside the scope of the job's strategy


@pytest.fixture
def recorded_compiles(monkeypatch):
    """Every `compile` (Keras's own, so the fast phase's head counts too) while a job believes it has a GPU and
    trains under a strategy of its own (OneDeviceStrategy: not TensorFlow's default, so a compile outside its scope
    is seen, and `fit` fails on it as under MirroredStrategy)."""
    import keras
    import tensorflow as tf
    from keras.src.trainers.trainer import Trainer

    from tlcore.training import devices

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    monkeypatch.setattr(devices, "gpu_visible_to_tensorflow", lambda: True)
    monkeypatch.setattr(devices, "training_strategy", lambda: strategy)
    calls: list[CompileCall] = []
    keras_compile = Trainer.compile

    def compile_and_record(self, *args, jit_compile="auto", **kwargs):
        calls.append(CompileCall(self.name, jit_compile, self.dtype_policy.name, keras.config.dtype_policy().name,
                                 tf.distribute.get_strategy() is strategy))
        keras_compile(self, *args, jit_compile=jit_compile, **kwargs)
        self.jit_compile = False  # compiled as asked (its compile config keeps it); XLA on this CPU is only slower

    monkeypatch.setattr(Trainer, "compile", compile_and_record)
    yield calls
    keras.config.set_dtype_policy("float32")  # the jobs set mixed_float16 for the whole process


def test_every_compile_of_a_job_keeps_its_strategy_xla_and_mixed_precision(tiny_dataset, recorded_compiles):
    """Phase 1, each gradual stage's recompile and the fast phase's head: all with the settings the job started with."""
    from tlcore.worker import run_job

    config = TrainConfig(dataset=tiny_dataset("three", classes=("0", "1", "2"), per_class=8), backbone=BACKBONE,
                         image_size=32, epochs=1, batch_size=BATCH, weights="random", fine_tune_at=PLAIN_FROM,
                         mixed_precision=True, xla=True)
    as_configured = {"jit_compile": True, "model_policy": "mixed_float16", "global_policy": "mixed_float16",
                     "in_job_strategy": True}
    jobs = {"plain": create_run(config), "fast": create_run(replace(config, fine_tune_at=None))}
    jobs["gradual"] = create_run(unfreezing.gradual_config(config, jobs["plain"].id, GRADUAL))
    compiles = {}
    for mode, job in jobs.items():
        recorded_compiles.clear()
        assert run_job(job, wait=False) == "finished", job.status().get("error")
        compiles[mode] = list(recorded_compiles)

    assert compiles["fast"][-1].model == "head_on_features" and len(compiles["fast"]) == 2  # the model, its head
    assert len(compiles["gradual"]) == 1 + GRADUAL.stages  # the job's compile, then one per stage
    for mode, calls in compiles.items():
        assert calls, mode
        for call in calls:
            assert {key: getattr(call, key) for key in as_configured} == as_configured, (mode, call)
        status = jobs[mode].status()
        assert (status["xla_used"], status["mixed_precision_used"]) == (True, True), mode
