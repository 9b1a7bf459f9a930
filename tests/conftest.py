"""Test isolation for TL Studio: every test gets its own studio home, data root, runs folder and Keras home.

Expensive artefacts are made once per session in folders of their own (the built-in digits, one tiny trained run)
and each test that wants them gets a private copy under its own folders, so no test sees another's runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The environment variables tlcore reads its folders from, and the sub-folder each points at.
_ENV_FOLDERS = {"TLSTUDIO_HOME": "home", "TLSTUDIO_DATA_ROOT": "data", "TLSTUDIO_RUNS_DIR": "runs",
                "KERAS_HOME": "keras"}


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow (or -m slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@dataclass(frozen=True)
class StudioDirs:
    home: Path
    data_root: Path
    runs: Path
    keras_home: Path


def _point_env_at(setenv, base: Path) -> StudioDirs:
    folders = {}
    for variable, name in _ENV_FOLDERS.items():
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        setenv(variable, str(folder))
        folders[variable] = folder
    return StudioDirs(folders["TLSTUDIO_HOME"], folders["TLSTUDIO_DATA_ROOT"], folders["TLSTUDIO_RUNS_DIR"],
                      folders["KERAS_HOME"])


def _stop_leftover_workers(test_folder: Path) -> None:
    """A test that failed half-way may leave job processes running on its folders; end them (by pid, only those
    working under this test's tmp_path) so they do not slow the tests that follow."""
    jobs = sys.modules.get("tlcore.jobs.scheduler")
    if jobs is None:
        return
    for child in list(jobs._children):
        if child.poll() is None and str(test_folder.resolve()) in str(child.args[-1]):
            child.kill()
            child.wait(timeout=30)


@pytest.fixture
def pretend_online(monkeypatch):
    """`pretend_online(True | False)`: every network probe of tlcore answers that (module and package surface)."""
    def answer(online: bool) -> None:
        def probe(*args, **kwargs):
            return online

        monkeypatch.setattr("tlcore.storage.network.is_online", probe)
        monkeypatch.setattr("tlcore.storage.is_online", probe)

    return answer


@pytest.fixture(autouse=True)
def studio_dirs(tmp_path, monkeypatch) -> StudioDirs:
    """Point every folder tlcore uses into this test's tmp_path, and forget any network probe."""
    from tlcore.storage import network as weights

    dirs = _point_env_at(monkeypatch.setenv, tmp_path / "studio")
    monkeypatch.delenv("TLSTUDIO_MAX_JOBS", raising=False)
    weights._probe_cache.clear()
    yield dirs
    weights._probe_cache.clear()
    _stop_leftover_workers(tmp_path)


# --- datasets ------------------------------------------------------------------------------------------------------
def link_tree(source: Path, target: Path) -> Path:
    """Copy a folder as hard links (1,797 digits in a few ms); falls back to copies across file systems."""

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy, symlinks=False)
    return target


def make_subset(digits: Path, target: Path, classes=("0", "1"), per_class: int = 40) -> Path:
    """A small class-folder dataset: the first `per_class` digits of each chosen class."""
    for name in classes:
        (target / name).mkdir(parents=True)
        for image in sorted((digits / name).glob("*.png"))[:per_class]:
            os.link(image, target / name / image.name)
    return target


@pytest.fixture(scope="session")
def digits_master(tmp_path_factory) -> Path:
    """The built-in digits, written once per session by tlcore.datasets.sample into a folder no test writes to."""
    base = tmp_path_factory.mktemp("digits-master")
    with pytest.MonkeyPatch.context() as patch:
        _point_env_at(patch.setenv, base)
        from tlcore.datasets.sample import sample_dataset_path

        return sample_dataset_path()


@pytest.fixture
def digits(digits_master, studio_dirs) -> Path:
    """This test's own sample-digits folder under its data root (complete: tlcore will not rewrite it)."""
    return link_tree(digits_master, studio_dirs.data_root / digits_master.name)


@pytest.fixture
def tiny_dataset(digits, studio_dirs):
    """Factory: `tiny_dataset("tiny", classes=("0", "1"), per_class=40)` makes a small dataset, returns its name."""

    def make(name: str = "tiny", classes=("0", "1"), per_class: int = 40) -> str:
        make_subset(digits, studio_dirs.data_root / name, classes, per_class)
        return name

    return make


def tiny_config(dataset: str, **changes):
    """The cheapest real training: MobileNetV2 at 32 px, random weights, frozen base, one epoch."""
    from tlcore.config.training import TrainConfig

    values = dict(dataset=dataset, backbone="MobileNetV2", image_size=32, epochs=1, batch_size=32,
                  learning_rate=1e-3, fine_tune_at=None, weights="random")
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture
def make_config():
    return tiny_config


# --- one trained run, shared ---------------------------------------------------------------------------------------
TRAINED_CLASSES = ("0", "1", "2")
TRAINED_DATASET = "tiny3"


@pytest.fixture(scope="session")
def trained_run_master(tmp_path_factory, digits_master) -> Path:
    """One tiny run (3 digit classes × 40 images, 1 epoch) trained in-process, in folders of its own.

    The environment points at those folders only while training; tests get copies via `trained_run`.
    """
    base = tmp_path_factory.mktemp("trained-run")
    with pytest.MonkeyPatch.context() as patch:
        dirs = _point_env_at(patch.setenv, base)
        make_subset(digits_master, dirs.data_root / TRAINED_DATASET, TRAINED_CLASSES, 40)
        from tlcore.runs.folders import FINISHED, create_run
        from tlcore.worker import run_job

        run = create_run(tiny_config(TRAINED_DATASET))
        state = run_job(run, wait=False)
        assert state == FINISHED, run.status().get("error")
        return run.path


@pytest.fixture
def trained_run(trained_run_master, studio_dirs):
    """A private copy of the shared trained run in this test's runs folder, its dataset under this test's data root."""
    from tlcore.runs.folders import get_run

    link_tree(trained_run_master.parent.parent / "data" / TRAINED_DATASET, studio_dirs.data_root / TRAINED_DATASET)
    shutil.copytree(trained_run_master, studio_dirs.runs / trained_run_master.name)
    return get_run(trained_run_master.name)


# --- jobs ----------------------------------------------------------------------------------------------------------
def wait_for(run, condition, timeout: float = 180.0, what: str = "condition"):
    """Poll a run's status (through jobs.refresh, as the pages do) until `condition(status)` holds."""
    from tlcore.jobs import scheduler as jobs

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs.refresh(run)
        status = run.status()
        if condition(status):
            return status
        time.sleep(0.2)
    log = run.log_path.read_text(errors="replace")[-3000:] if run.log_path.exists() else "(no worker.log)"
    pytest.fail(f"run {run.id}: no {what} within {timeout:.0f} s; status {run.status()}\nworker.log tail:\n{log}")


def wait_for_state(run, *states: str, timeout: float = 180.0) -> dict:
    return wait_for(run, lambda status: status.get("state") in states, timeout, f"state in {states}")


@pytest.fixture
def wait():
    """`wait.state(run, "finished", "failed")` / `wait.until(run, lambda status: ...)`, with the log on timeout."""

    class Waiter:
        state = staticmethod(wait_for_state)
        until = staticmethod(wait_for)

    return Waiter


# --- a run that discriminates, evaluated and calibrated -----------------------------------------------------------
CALIBRATED_DATASET = "digits3"
CALIBRATED_CLASSES = ("0", "1", "2")
CALIBRATED_PER_CLASS = 60
CALIBRATED_MIN_TEST_ACCURACY = 0.75  # chance is 1/3; measured 27 test images


def _train_discriminating_run(data_root: Path):
    """MobileNetV2 at 32 px from random weights, every layer trained (3 epochs on 126 images), saved as a run.

    Trained with Keras directly rather than through a job, because a base trained from random weights for a few
    dozen steps has BatchNorm moving statistics far from its batches' (its outputs at inference are one constant
    answer): after fitting, the moving statistics are set from all training images at once (momentum 0), which is
    what a long training would converge to. Then `evaluate_run` stores the test metrics and the calibration exactly
    as at the end of a real job.
    """
    import keras
    import numpy as np

    from tlcore.datasets.pipeline import load_arrays
    from tlcore.datasets.scan import scan_folder
    from tlcore.datasets.split import make_split
    from tlcore.evaluation.metrics import evaluate_run
    from tlcore.modeling.model import base_of, build_model, compile_model
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.training.callbacks import save_model_atomic

    config = tiny_config(CALIBRATED_DATASET, epochs=3, batch_size=16, learning_rate=2e-3, fine_tune_at=0)
    run = create_run(config)
    scan = scan_folder(CALIBRATED_DATASET)
    split = make_split(scan, config.split)
    run.write_split(split)
    images, labels = load_arrays(scan.root, split.train, config.image_size)
    val_images, val_labels = load_arrays(scan.root, split.val, config.image_size)
    started = time.time()
    keras.utils.set_random_seed(0)
    model = build_model(config, len(split.class_names), load_weights=False)
    compile_model(model, config.learning_rate, len(split.class_names), config)
    fitted = model.fit(images.astype("float32"), labels, batch_size=config.batch_size, epochs=config.epochs,
                       validation_data=(val_images.astype("float32"), val_labels), verbose=0)
    batchnorm = [layer for layer in base_of(model).layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batchnorm:
        layer.momentum = 0.0
    base_of(model)(model.get_layer("preprocess")(images.astype("float32")), training=True)
    for layer in batchnorm:
        layer.momentum = 0.9
    save_model_atomic(model, run.model_path)
    run.write_history([{"epoch": epoch + 1, "phase": 1, "learning_rate": config.learning_rate,
                        **{key: values[epoch] for key, values in fitted.history.items()}}
                       for epoch in range(config.epochs)])
    report = evaluate_run(run.id)
    run.update_status(state=FINISHED, phase=FINISHED, started_at=started, finished_at=time.time(),
                      epochs_done=config.epochs, test_accuracy=report["accuracy"])
    probabilities = model.predict(load_arrays(scan.root, split.test, config.image_size)[0], verbose=0)
    assert report["accuracy"] >= CALIBRATED_MIN_TEST_ACCURACY, report["accuracy"]
    assert set(probabilities.argmax(axis=1)) == {0, 1, 2}
    assert np.asarray(probabilities).std(axis=0).min() > 0.1, probabilities  # not one answer for every image
    return run


@pytest.fixture(scope="session")
def calibrated_run_master(tmp_path_factory, digits_master) -> Path:
    """One discriminating run (3 digit classes × 60 images; test accuracy ≥ CALIBRATED_MIN_TEST_ACCURACY, outputs
    that vary), evaluated and calibrated, in folders of its own (~80 s). Tests get copies via `calibrated_run`."""
    base = tmp_path_factory.mktemp("calibrated-run")
    with pytest.MonkeyPatch.context() as patch:
        dirs = _point_env_at(patch.setenv, base)
        make_subset(digits_master, dirs.data_root / CALIBRATED_DATASET, CALIBRATED_CLASSES, CALIBRATED_PER_CLASS)
        return _train_discriminating_run(dirs.data_root).path


@pytest.fixture
def calibrated_run(calibrated_run_master, studio_dirs):
    """A private copy of the discriminating run in this test's runs folder, its dataset under this test's data root."""
    from tlcore.runs.folders import get_run

    link_tree(calibrated_run_master.parent.parent / "data" / CALIBRATED_DATASET,
              studio_dirs.data_root / CALIBRATED_DATASET)
    shutil.copytree(calibrated_run_master, studio_dirs.runs / calibrated_run_master.name)
    return get_run(calibrated_run_master.name)
