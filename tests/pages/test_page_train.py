"""Train page: live parameter counts, the weights check, and Start queuing a run (no worker process is spawned)."""

import os
import subprocess

import pytest
from page_helpers import by_label, make_run, metric_value, texts

from tlcore.backbones import catalog as backbones
from tlcore.config.training import TrainConfig
from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import count_params
from tlcore.runs.folders import get_run

FREEZE = "Freeze base layers below index"
MOBILENET_V2_96 = backbones.get("MobileNetV2").weights_filename(96)


def _counts_shown(at) -> tuple[str, str, str]:
    return metric_value(at, "Total parameters"), metric_value(at, "Trainable"), metric_value(at, "Non-trainable")


def _formatted(counts) -> tuple[str, str, str]:
    return f"{counts.total:,}", f"{counts.trainable:,}", f"{counts.non_trainable:,}"


def _start_button(at):
    return by_label(at.button, "Start training")


def test_defaults_show_the_frozen_mobilenet_counts(open_page):
    at = open_page("pages/train.py")

    assert by_label(at.selectbox, "Backbone").value == "MobileNetV2"
    assert by_label(at.number_input, "Image size (px)").value == 96
    freeze = by_label(at.slider, FREEZE, prefix=True)
    assert freeze.value == freeze.max == 154
    expected = count_params("MobileNetV2", 10, None)
    assert _counts_shown(at) == _formatted(expected)
    assert metric_value(at, "Trainable") == "12,810"  # the head alone: 1280 × 10 + 10
    assert any("10 classes" in text and "1,797 images" in text for text in texts(at.caption))


def test_moving_the_freeze_slider_changes_trainable(open_page):
    at = open_page("pages/train.py")
    frozen_trainable = metric_value(at, "Trainable")

    by_label(at.slider, FREEZE, prefix=True).set_value(100).run()

    expected = count_params("MobileNetV2", 10, 100)
    assert _counts_shown(at) == _formatted(expected)
    assert metric_value(at, "Trainable") != frozen_trainable
    assert metric_value(at, "Total parameters") == f"{expected.total:,}"  # the total does not depend on freezing
    assert any("from layer 100" in text for text in texts(at.caption))


def test_batchnorm_counts_as_trainable_with_either_starting_weights(open_page):
    # A pretrained base keeps its statistics by running in inference mode, so its BatchNorm gamma and beta train
    # as they do from random weights: both choices show the TensorFlow tutorial's kind of counts.
    at = open_page("pages/train.py")
    by_label(at.slider, FREEZE, prefix=True).set_value(0).run()
    pretrained = _counts_shown(at)
    by_label(at.radio, "Starting weights").set_value("random").run()
    by_label(at.slider, FREEZE, prefix=True).set_value(0).run()

    expected = count_params("MobileNetV2", 10, 0)
    assert _counts_shown(at) == pretrained == _formatted(expected)
    assert expected.non_trainable == 34_112  # only the moving means and variances of the 52 BatchNorm layers


def test_imagenet_weights_missing_offline_disable_start(open_page, studio):
    at = open_page("pages/train.py")

    assert by_label(at.radio, "Starting weights").value == "imagenet"
    errors = texts(at.error)
    assert len(errors) == 1
    assert MOBILENET_V2_96 in errors[0] and "Backbones page" in errors[0]  # the file to upload, and where
    assert str(studio.keras_models) not in errors[0]  # no server folder on the page (the admin's log has it)
    assert _start_button(at).disabled


def test_random_initialisation_enables_start(open_page):
    at = open_page("pages/train.py")

    by_label(at.radio, "Starting weights").set_value("random").run()

    assert not at.error
    assert not _start_button(at).disabled
    assert any("frozen, randomly initialised base" in text for text in texts(at.warning))


def test_cached_weights_file_shows_success(open_page, studio):
    studio.keras_models.mkdir(parents=True)
    (studio.keras_models / MOBILENET_V2_96).write_bytes(b"fake weights")

    at = open_page("pages/train.py")

    assert not at.error
    assert any("cached" in text and MOBILENET_V2_96 in text for text in texts(at.success))
    assert not _start_button(at).disabled


def test_start_queues_a_run_with_the_form_config(open_page, studio, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    at = open_page("pages/train.py")
    by_label(at.selectbox, "Backbone").set_value("EfficientNetB0").run()
    by_label(at.radio, "Starting weights").set_value("random").run()
    by_label(at.number_input, "Image size (px)").set_value(64).run()
    by_label(at.number_input, "Epochs").set_value(2).run()
    by_label(at.slider, FREEZE, prefix=True).set_value(100).run()
    assert not at.exception

    _start_button(at).click().run()

    assert not at.exception and not at.error
    run_id = at.query_params["run"]
    assert [run.id for run in started] == [run_id]
    run = get_run(run_id)
    assert run.path.parent == studio.runs_dir
    config = run.config()
    assert (config.dataset, config.backbone, config.image_size, config.epochs, config.weights, config.fine_tune_at) == (
        "sample-digits", "EfficientNetB0", 64, 2, "random", 100)
    assert run.state == "queued"
    # The monitor below the form shows the queued job and its place in the queue.
    assert any(f"`{run_id}`" in text and "queued" in text for text in texts(at.markdown))
    assert any("position 1" in text for text in texts(at.info))
    assert by_label(at.button, "Cancel job")


def test_split_chosen_on_dataset_goes_into_the_run(open_page, studio):
    at = open_page("pages/dataset.py")
    by_label(at.slider, "Test share").set_value(0.1).run()
    at.switch_page("pages/train.py").run()
    by_label(at.radio, "Starting weights").set_value("random").run()

    _start_button(at).click().run()

    assert get_run(at.query_params["run"]).config().split.test_fraction == 0.1


def test_cancel_job_writes_the_request(open_page):
    at = open_page("pages/train.py")
    by_label(at.radio, "Starting weights").set_value("random").run()
    _start_button(at).click().run()
    run = get_run(at.query_params["run"])

    by_label(at.button, "Cancel job").click().run()

    assert run.cancel_path.exists()
    assert any(toast.value.startswith("Cancel requested") for toast in at.toast)


@pytest.mark.parametrize("first_epoch,epochs,epoch", [(1, 5, 2), (4, 8, 5)])  # a first phase; a fine-tuning phase
def test_running_job_shows_its_progress(open_page, first_epoch, epochs, epoch):
    run = make_run(state="running", pid=os.getpid(), phase="training", first_epoch=first_epoch, epochs=epochs,
                   epoch=epoch, batch=10, batches=20, eta_seconds=30.4)

    at = open_page("pages/train.py", query_params={"run": run.id})

    progress = at.get("progress")
    assert len(progress) == 1
    assert progress[0].value == 30  # 1.5 of 5 epochs in this phase
    assert progress[0].text == f"training · epoch {epoch}/{epochs} · batch 10/20 · about 30 s left"
    assert by_label(at.button, "Cancel job")


def test_job_whose_process_died_is_shown_as_interrupted(open_page):
    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its pid is free, as a crashed worker's would be
    run = make_run(state="running", pid=dead.pid, phase="training")

    at = open_page("pages/train.py", query_params={"run": run.id})

    assert any("The job interrupted" in text and "ended without finishing" in text for text in texts(at.error))
    assert run.state == "interrupted"
    assert not [button for button in at.button if button.label == "Cancel job"]


@pytest.mark.parametrize("state,status,shown", [
    ("failed", {"error": "ResourceExhaustedError: OOM when allocating tensor"}, "error"),
    ("interrupted", {"error": "The job process ended without finishing (killed or crashed)."}, "error"),
])
def test_failed_run_shows_its_error(open_page, state, status, shown):
    run = make_run(TrainConfig(dataset="sample-digits", weights="random"), state=state, **status)

    at = open_page("pages/train.py", query_params={"run": run.id})

    messages = texts(getattr(at, shown))
    assert any(status["error"] in text and state in text for text in messages), messages


def test_finished_run_shows_test_accuracy_and_curves(open_page):
    run = make_run(state="finished", test_accuracy=0.934,
                   history=[{"epoch": 1, "phase": "head", "loss": 0.9, "accuracy": 0.7, "val_loss": 0.8,
                             "val_accuracy": 0.75}])

    at = open_page("pages/train.py", query_params={"run": run.id})

    assert "Finished: test accuracy 93.4%" in texts(at.success)
    assert len(at.get("plotly_chart")) == 2  # the freeze strip of the form, and the run's learning curves


def test_unknown_run_in_the_url_is_a_warning_not_a_crash(open_page):
    at = open_page("pages/train.py", query_params={"run": "no-such-run"})

    assert any("No run 'no-such-run'" in text for text in texts(at.warning))


def test_unusable_dataset_in_the_url_stops_the_form(open_page):
    at = open_page("pages/train.py", query_params={"dataset": "../../etc"})

    assert any("outside the data root" in text for text in texts(at.error))
    assert not at.button and not at.metric
