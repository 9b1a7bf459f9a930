"""Fine-tune page: continue a finished run with part of the base unfrozen (no worker process is spawned)."""

import os

from page_helpers import by_label, make_run, metric_value, texts

from tlcore import backbones
from tlcore.backbones.catalog import layer_table
from tlcore.config.training import TrainConfig
from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import count_params
from tlcore.runs.fixed_split import dataset_changes
from tlcore.runs.folders import get_run
from tlcore.runs.resume import BACKUP_FOLDER, BACKUP_METADATA
from tlcore.storage.atomic import write_json_atomic

UNFREEZE = "Unfreeze MobileNetV2 from layer"
LEARNING_RATE = "Learning rate (default: 10× lower than the run's)"
MOBILENET_V2_LAYERS = len(layer_table("MobileNetV2").layers)


def _finished_parent(**config_changes):
    config = TrainConfig(dataset="sample-digits", backbone="MobileNetV2", image_size=96, learning_rate=2e-3,
                         epochs=3, **config_changes)
    # The page only checks that model.keras exists; no model is built here.
    return make_run(config, state="finished", epochs_done=3, class_names=[str(d) for d in range(10)],
                    model=b"stand-in for a saved model")


def test_without_a_finished_run_shows_the_info(open_page):
    make_run(state="failed", error="crashed")  # not finished: cannot be continued
    make_run(state="finished")  # finished but without a model file

    at = open_page("pages/finetune.py")

    assert any(text.startswith("No finished run yet") for text in texts(at.info))
    assert not at.button and not at.slider


def test_defaults_follow_the_parent_run(open_page):
    parent = _finished_parent()

    at = open_page("pages/finetune.py")

    assert by_label(at.selectbox, "Run to continue").value == parent.id
    slider = by_label(at.slider, UNFREEZE, prefix=True)
    assert MOBILENET_V2_LAYERS == 154
    assert slider.value == 100  # the TensorFlow tutorial's fine_tune_at for MobileNetV2
    assert slider.max == MOBILENET_V2_LAYERS - 1
    assert by_label(at.number_input, LEARNING_RATE).value == 2e-4
    expected = count_params("MobileNetV2", 10, 100)
    assert metric_value(at, "Trainable") == f"{expected.trainable:,}"
    assert metric_value(at, "Total parameters") == f"{expected.total:,}"
    assert at.query_params["run"] == parent.id


def test_start_queues_a_fine_tuning_run_of_the_parent(open_page, studio, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    parent = _finished_parent()
    at = open_page("pages/finetune.py")
    by_label(at.slider, UNFREEZE, prefix=True).set_value(120).run()
    by_label(at.number_input, "More epochs").set_value(2).run()
    assert metric_value(at, "Trainable") == f"{count_params('MobileNetV2', 10, 120).trainable:,}"

    by_label(at.button, "Start fine-tuning").click().run()

    assert not at.exception and not at.error
    job_id = at.query_params["job"]
    assert [run.id for run in started] == [job_id]
    job = get_run(job_id)
    config = job.config()
    assert config.parent_run == parent.id
    assert config.fine_tune_at == 120
    assert config.epochs == 2
    assert config.learning_rate == 2e-4
    assert (config.backbone, config.image_size, config.dataset) == ("MobileNetV2", 96, "sample-digits")
    assert job.state == "queued"
    assert any(f"`{job_id}`" in text and "queued" in text for text in texts(at.markdown))
    assert any("position 1" in text for text in texts(at.info))


def test_picking_another_run_changes_the_slider_range(open_page):
    mobilenet = _finished_parent()
    resnet = make_run(TrainConfig(dataset="sample-digits", backbone="ResNet50", learning_rate=1e-3), state="finished",
                      class_names=["a", "b", "c"], model=b"x")
    at = open_page("pages/finetune.py")
    picker = by_label(at.selectbox, "Run to continue")
    assert sorted(picker.options) == sorted(f"{run.id} · {name} · finished" for run, name in (
        (mobilenet, "MobileNetV2 96 px · frozen"), (resnet, "ResNet50 96 px · frozen")))  # readable beside the stamp
    other = mobilenet if picker.value == resnet.id else resnet

    picker.set_value(other.id).run()

    backbone = other.config().backbone
    layers = len(layer_table(backbone).layers)
    slider = by_label(at.slider, f"Unfreeze {backbone} from layer", prefix=True)
    assert (slider.max, slider.value) == (layers - 1, backbones.default_fine_tune_at(backbone))
    assert slider.value == (100 if backbone == "MobileNetV2" else (layers * 2) // 3)
    assert by_label(at.number_input, LEARNING_RATE).value == other.config().learning_rate / 10
    assert at.query_params["run"] == other.id


def test_batchnorm_note_and_counts_follow_how_the_parent_started(open_page):
    """A pretrained parent's base runs in inference mode (BatchNorm keeps its statistics, gamma and beta train); a
    parent trained from random weights lets BatchNorm learn. The counts are the same either way."""
    _finished_parent()  # ImageNet weights (the default)

    pretrained_page = open_page("pages/finetune.py")
    captions = texts(pretrained_page.caption)
    assert any("runs in inference mode, so BatchNorm keeps its ImageNet statistics" in text for text in captions)
    assert metric_value(pretrained_page, "Trainable") == f"{count_params('MobileNetV2', 10, 100).trainable:,}"

    scratch = _finished_parent(weights="random")
    scratch_page = open_page("pages/finetune.py", query_params={"run": scratch.id})
    captions = texts(scratch_page.caption)
    assert any("started from random weights, so its BatchNorm layers keep learning" in text for text in captions)
    assert not any("inference mode" in text for text in captions)
    assert metric_value(scratch_page, "Trainable") == metric_value(pretrained_page, "Trainable")


# --- the split is fixed: what changed in the folder since is shown, and the Resume button names the right epoch ----
def _parent_with_split(studio):
    """A finished parent whose split.json was made from the sample digits, then the folder changed: two images
    added to class 3, one of its training images removed."""
    from tlcore.config.split import SplitConfig
    from tlcore.datasets.scan import scan_folder
    from tlcore.datasets.split import make_split

    parent = _finished_parent()
    split = make_split(scan_folder("sample-digits"), SplitConfig())
    parent.write_split(split)
    folder = studio.data_root / "sample-digits"
    source = sorted((folder / "3").iterdir())[0]
    for name in ("3/extra_a.png", "3/extra_b.png"):
        os.link(source, folder / name)
    removed = split.train[0][0]
    (folder / removed).unlink()
    return parent, removed


def test_the_page_says_what_was_added_and_removed_since_the_parents_split(open_page, studio):
    parent, removed = _parent_with_split(studio)

    at = open_page("pages/finetune.py", query_params={"run": parent.id})

    [warning] = [text for text in texts(at.warning) if text.startswith("The dataset folder changed")]
    assert "2 files added (3/extra_a.png, 3/extra_b.png)" in warning
    assert f"1 file removed ({removed})" in warning
    assert "Fine-tuning keeps that split: added files are not used, removed files are left out" in warning


def test_the_job_banner_shows_the_changes_the_fine_tuning_job_found(open_page, studio):
    parent, removed = _parent_with_split(studio)
    job = make_run(parent.config().fine_tune(parent_run=parent.id, fine_tune_at=100), state="finished",
                   test_accuracy=0.5, dataset_changes=dataset_changes(get_run(parent.id)).summary())
    (studio.data_root / "sample-digits" / "3" / "extra_b.png").unlink()  # the banner shows what the job found

    at = open_page("pages/finetune.py", query_params={"run": parent.id, "job": job.id})

    banner = [text for text in texts(at.warning) if "2 files added (3/extra_a.png, 3/extra_b.png)" in text]
    assert len(banner) == 1 and f"1 file removed ({removed}). The run keeps that split" in banner[0]
    assert any(text.startswith("Finished: test accuracy 50.0%") for text in texts(at.success))


def test_a_failed_job_resumes_from_the_epoch_after_its_last_backup(open_page, studio, monkeypatch):
    """status.json says 5 epochs were done, but the job died before epoch 5's backup: Keras restores epoch 4."""
    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    parent, removed = _parent_with_split(studio)
    job = make_run(parent.config().fine_tune(parent_run=parent.id, fine_tune_at=100, epochs=4), state="failed",
                   epochs=7, epochs_done=5, error="killed")
    write_json_atomic(job.path / BACKUP_FOLDER / "phase-2" / BACKUP_METADATA, {"epoch": 4, "batch": 0})
    at = open_page("pages/finetune.py", query_params={"run": parent.id, "job": job.id})
    assert any("The job failed: killed" in text for text in texts(at.error))
    assert any("2 files added" in text and "The run keeps that split" in text for text in texts(at.warning))
    assert not [button for button in at.button if button.label == "Resume from epoch 6"]

    by_label(at.button, "Resume from epoch 5").click().run()

    assert [run.id for run in started] == [job.id]
    assert job.status()["state"] == "queued" and job.status()["resumed_from_epoch"] == 4


def test_a_job_that_died_while_evaluating_offers_to_resume_the_evaluation(open_page, studio):
    parent = _finished_parent()
    job = make_run(parent.config().fine_tune(parent_run=parent.id, fine_tune_at=100, epochs=2), state="interrupted",
                   epochs=5, epochs_done=5, phase="evaluating", error="the job process ended")
    write_json_atomic(job.path / BACKUP_FOLDER / "phase-2" / BACKUP_METADATA, {"epoch": 5, "batch": 0})

    at = open_page("pages/finetune.py", query_params={"run": parent.id, "job": job.id})

    assert [button.label for button in at.button if button.label.startswith("Resume")] == ["Resume (evaluate)"]
