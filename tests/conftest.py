"""Test isolation for TL Studio: every test gets its own studio home, data root, runs folder and Keras home.

Expensive artefacts are made once per session in folders of their own (the built-in digits, stand-in "ImageNet"
weights, one tiny trained run) and each test that wants them gets a private copy under its own folders, so no test
sees another's runs.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow

import functools
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent

# The environment variables tlcore reads its folders from, and the sub-folder each points at.
_ENV_FOLDERS = {"TLSTUDIO_HOME": "home", "TLSTUDIO_DATA_ROOT": "data", "TLSTUDIO_RUNS_DIR": "runs",
                "KERAS_HOME": "keras"}


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    _heaviest_files_first(items)
    _scan_installed_components_once()
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow (or -m slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


def _scan_installed_components_once() -> None:
    """Every new AppTest scans the metadata of every installed distribution (about 800 files here) for Streamlit
    components, ~0.2 s of CPU per page opened in a test; the installed packages do not change during a test session,
    so the page tests (whose conftest imported AppTest during collection) scan once per process."""
    if "streamlit.testing.v1" not in sys.modules:
        return
    from streamlit.components.v2 import manifest_scanner

    if not hasattr(manifest_scanner.scan_component_manifests, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


# Seconds each heavy test file took in a CI run (setup + call + teardown of its tests, `--durations=0`, 2 workers on
# the 2-core machine; refresh with `python tests/file_seconds.py LOG`). Under pytest-xdist `--dist loadfile
# --no-loadscope-reorder` (.ci/run) files are handed out in collection order, so starting the heaviest first leaves
# short files for the end, where they even out the two workers (xdist's own order, most tests first, put the
# one-test browser and soak files last, one worker then finishing minutes after the other).
FILE_SECONDS_PATH = Path(__file__).with_name("file_seconds.json")


def _heaviest_files_first(items) -> None:
    """Reorder the collected tests: files by their measured cost, heaviest first; unlisted files after, in collection
    order; a file's own tests keep their order (the sort is stable)."""
    try:
        seconds = json.loads(FILE_SECONDS_PATH.read_text())
    except (OSError, ValueError):
        return
    items.sort(key=lambda item: -float(seconds.get(item.nodeid.split("::", 1)[0], 0)))


@dataclass(frozen=True)
class StudioDirs:
    home: Path
    data_root: Path
    runs: Path
    keras_home: Path


def _point_env_at(patch: pytest.MonkeyPatch, base: Path) -> StudioDirs:
    folders = {}
    for variable, name in _ENV_FOLDERS.items():
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        patch.setenv(variable, str(folder))
        folders[variable] = folder
    # Keras reads KERAS_HOME once, when it is imported; an already imported Keras is pointed at this folder too, so
    # in this process Keras loads weights from where tlcore looks for them (tlcore.storage.paths.keras_models_dir).
    keras_config = sys.modules.get("keras.src.backend.config")
    if keras_config is not None:
        patch.setattr(keras_config, "_KERAS_DIR", str(folders["KERAS_HOME"]))
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
    """`pretend_online(True | False)`: every network probe of tlcore (`tlcore.network.is_online`) answers that."""
    def answer(online: bool) -> None:
        def probe(*args, **kwargs):
            return online

        monkeypatch.setattr("tlcore.network.is_online", probe)

    return answer


@pytest.fixture(autouse=True)
def studio_dirs(tmp_path, monkeypatch) -> StudioDirs:
    """Point every folder tlcore uses into this test's tmp_path, and forget any network probe."""
    from tlcore import network as weights

    dirs = _point_env_at(monkeypatch, tmp_path / "studio")
    monkeypatch.delenv("TLSTUDIO_MAX_JOBS", raising=False)
    weights._probe_cache.clear()
    yield dirs
    weights._probe_cache.clear()
    _stop_leftover_workers(tmp_path)


# --- session artefacts, built once even under pytest-xdist -------------------------------------------------------
def built_once(tmp_path_factory, name: str, build: Callable[[Path], Path]) -> Path:
    """`build(folder)` once per test session, in a folder of its own; returns what it returned.

    Under pytest-xdist (`-n 2`) every worker process has its own session fixtures: the first worker to ask builds
    the artefact in a folder all workers share (beside their own temporary folders) under a file lock, and the others
    wait for it and reuse it, so a trained run or the stand-in weights are never trained twice. Masters are read
    only: tests get copies.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name))
    from tlcore.storage.file_lock import file_lock

    shared = tmp_path_factory.getbasetemp().parent / "shared-session-artefacts"
    shared.mkdir(exist_ok=True)
    record = shared / f"{name}.json"
    with file_lock(shared / f"{name}.lock"):
        if record.exists():
            return Path(json.loads(record.read_text())["path"])
        folder = shared / name
        if folder.exists():  # a build that failed half-way in another worker
            shutil.rmtree(folder)
        folder.mkdir()
        result = build(folder)
        record.write_text(json.dumps({"path": str(result)}))
        return result


# --- datasets ------------------------------------------------------------------------------------------------------
def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


def link_tree(source: Path, target: Path) -> Path:
    """Copy a folder as hard links (1,797 digits in a few ms); falls back to copies across file systems."""
    shutil.copytree(source, target, copy_function=_link_or_copy, symlinks=False)
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
    def build(base: Path) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            _point_env_at(patch, base)
            from tlcore.datasets.sample import sample_dataset_path

            return sample_dataset_path()

    return built_once(tmp_path_factory, "digits-master", build)


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


# --- stand-in "ImageNet" weights ----------------------------------------------------------------------------------
def _make_subset_items(digits: Path, classes, per_class: int) -> list[tuple[str, int]]:
    """The (relative path, label) pairs `make_subset` links for these classes, in its order."""
    return [(f"{name}/{image.name}", int(name)) for name in classes
            for image in sorted((digits / name).glob("*.png"))[:per_class]]


@pytest.fixture(scope="session")
def standin_weights_master(tmp_path_factory, digits_master) -> Path:
    """A STAND-IN for MobileNetV2's ImageNet weights, NOT ImageNet weights: made here, never shipped.

    A MobileNetV2 base trained from random weights by the one stand-in recipe the benchmarks use too
    (bench/_standin.py `train_standin_base` with its defaults, STANDIN_EPOCHS at STANDIN_LEARNING_RATE, the settings
    the benchmarks' `pretrain_base` uses; its BatchNorm moving statistics then set from 512 training images) on the
    built-in digits at 32 px (all ten classes, leaving out the images the shared trained run uses, so its test images
    stay unseen). Saved in the legacy h5 layout under every file name Keras looks
    for in `$KERAS_HOME/models` (its weights do not depend on the input size), so `weights="imagenet"` loads it
    offline exactly as a user's cached download. MobileNetV2 is the backbone this works for: it checks no file hash,
    where VGG16 and EfficientNet md5-check a cached file and delete one that differs (tests set their weights in
    code). About 35–45 s on 2 busy cores. Returns the folder holding the files.
    """
    def build(base: Path) -> Path:
        folder = base / "weights"
        folder.mkdir()
        with pytest.MonkeyPatch.context() as patch:
            _point_env_at(patch, base / "studio")
            import keras

            from bench._standin import train_standin_base
            from tlcore.backbones import catalog
            from tlcore.datasets.pipeline import load_arrays

            backbone = catalog.get("MobileNetV2")
            held_back = set(_make_subset_items(digits_master, TRAINED_CLASSES, TRAINED_PER_CLASS))
            items = [item for item in _make_subset_items(digits_master, [str(n) for n in range(10)], 10_000)
                     if item not in held_back]
            images, labels = load_arrays(digits_master, items, STANDIN_IMAGE_SIZE)
            pretrained, _ = train_standin_base("MobileNetV2", STANDIN_IMAGE_SIZE, images, labels)

            saved = folder / backbone.weights_filename(backbone.default_size)
            keras.saving.save_model(pretrained, saved)  # legacy h5, what `load_weights` of keras.applications reads
            for size in backbone.weights_sizes:
                other = folder / backbone.weights_filename(size)
                if not other.exists():
                    os.link(saved, other)
        return folder

    return built_once(tmp_path_factory, "standin-imagenet-weights", build)


def link_standin_weights(standin_folder: Path, keras_home: Path) -> None:
    """Make the stand-in weights files the cached "ImageNet" downloads of this Keras home."""
    models = keras_home / "models"
    models.mkdir(parents=True, exist_ok=True)
    for weights_file in standin_folder.iterdir():
        if not (models / weights_file.name).exists():
            _link_or_copy(weights_file, models / weights_file.name)


@pytest.fixture
def standin_imagenet(standin_weights_master, studio_dirs) -> Path:
    """This test's Keras home holds the stand-in MobileNetV2 "ImageNet" weights (see standin_weights_master)."""
    link_standin_weights(standin_weights_master, studio_dirs.keras_home)
    return studio_dirs.keras_home / "models"


# --- one trained run, shared ---------------------------------------------------------------------------------------
TRAINED_CLASSES = ("0", "1", "2")
TRAINED_PER_CLASS = 40
TRAINED_DATASET = "tiny3"
STANDIN_IMAGE_SIZE = 32
TRAINED_MIN_TEST_ACCURACY = 0.85  # chance is 1/3; measured 17 of 18 test images right (0.944)


TRAINED_LEARNING_RATE = 1e-2  # one epoch is 3 steps of the head alone: at 1e-3 it ends at 50–78 % (measured)


def trained_config():
    """The shared run: the tiny config with stand-in "ImageNet" weights, base frozen (the fast frozen phase)."""
    return tiny_config(TRAINED_DATASET, weights="imagenet", image_size=STANDIN_IMAGE_SIZE,
                       learning_rate=TRAINED_LEARNING_RATE)


@pytest.fixture(scope="session")
def trained_run_master(tmp_path_factory, digits_master, standin_weights_master) -> Path:
    """One tiny run (3 digit classes × 40 images, 1 epoch) trained in-process, in folders of its own.

    As a user with ImageNet weights would train it: the stand-in MobileNetV2 weights loaded as "imagenet", the base
    frozen in inference mode, the head trained on cached features. It discriminates, which is checked here: its test
    accuracy is at least TRAINED_MIN_TEST_ACCURACY and its probabilities differ across the test images. The
    environment points at its folders only while training; tests get copies via `trained_run`.
    """
    def build(base: Path) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            dirs = _point_env_at(patch, base)
            make_subset(digits_master, dirs.data_root / TRAINED_DATASET, TRAINED_CLASSES, TRAINED_PER_CLASS)
            link_standin_weights(standin_weights_master, dirs.keras_home)
            from tlcore.datasets.pipeline import load_arrays
            from tlcore.layers.loading import load_model
            from tlcore.runs.folders import FINISHED, create_run
            from tlcore.worker import run_job

            run = create_run(trained_config())
            state = run_job(run, wait=False)
            assert state == FINISHED, run.status().get("error")
            assert run.status()["fast_frozen_phase"] is True
            assert run.status()["test_accuracy"] >= TRAINED_MIN_TEST_ACCURACY, run.status()
            images, labels = load_arrays(dirs.data_root / TRAINED_DATASET, run.split().test, STANDIN_IMAGE_SIZE)
            probabilities = load_model(run.model_path).predict(images, verbose=0)
            assert set(probabilities.argmax(axis=1)) == {0, 1, 2}
            assert probabilities.std(axis=0).min() > 0.1, probabilities  # not one answer for every image
            return run.path

    return built_once(tmp_path_factory, "trained-run", build)


@pytest.fixture
def trained_run(trained_run_master, studio_dirs, standin_weights_master):
    """A private copy of the shared trained run in this test's runs folder, its dataset under this test's data root,
    and the stand-in weights it was trained from in this test's Keras home (so it can be trained again)."""
    from tlcore.runs.folders import get_run

    link_tree(trained_run_master.parent.parent / "data" / TRAINED_DATASET, studio_dirs.data_root / TRAINED_DATASET)
    shutil.copytree(trained_run_master, studio_dirs.runs / trained_run_master.name)
    link_standin_weights(standin_weights_master, studio_dirs.keras_home)
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
    def build(base: Path) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            dirs = _point_env_at(patch, base)
            make_subset(digits_master, dirs.data_root / CALIBRATED_DATASET, CALIBRATED_CLASSES, CALIBRATED_PER_CLASS)
            return _train_discriminating_run(dirs.data_root).path

    return built_once(tmp_path_factory, "calibrated-run", build)


@pytest.fixture
def calibrated_run(calibrated_run_master, studio_dirs):
    """A private copy of the discriminating run in this test's runs folder, its dataset under this test's data root."""
    from tlcore.runs.folders import get_run

    link_tree(calibrated_run_master.parent.parent / "data" / CALIBRATED_DATASET,
              studio_dirs.data_root / CALIBRATED_DATASET)
    shutil.copytree(calibrated_run_master, studio_dirs.runs / calibrated_run_master.name)
    return get_run(calibrated_run_master.name)
