"""Fine-tune page (phases, block, gradual, sweep), the job monitor's Resume, and the Train page's LR finder.

No worker process is spawned: `jobs.start_worker` records the runs it was given; run folders are written by hand.
"""

import pytest
from page_helpers import by_label, make_run, metric_value, texts

from tlcore.backbones import freeze_blocks as freeze
from tlcore.config.training import TrainConfig
from tlcore.jobs import scheduler as jobs
from tlcore.jobs.tasks import create_task
from tlcore.modeling.model import count_params
from tlcore.runs.folders import get_run
from tlcore.storage.atomic import write_json_atomic
from tlcore.training import sweep

HISTORY = [{"epoch": 1, "phase": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.40,
            "learning_rate": 1e-3},
           {"epoch": 2, "phase": 1, "loss": 0.8, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.55,
            "learning_rate": 1e-3},
           {"epoch": 3, "phase": 2, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.70,
            "learning_rate": 1e-4}]


@pytest.fixture
def started(monkeypatch):
    runs = []
    monkeypatch.setattr(jobs, "start_worker", runs.append)
    return runs


def _parent(**changes):
    config = TrainConfig(dataset="sample-digits", image_size=96, learning_rate=1e-3, epochs=2, **changes)
    return make_run(config, state="finished", epochs_done=3, class_names=[str(d) for d in range(10)],
                    model=b"stand-in", history=HISTORY, trainable_params=99_999)


def test_phases_of_the_run_show_as_one_curve_with_boundaries_and_a_table(open_page):
    parent = _parent()

    at = open_page("pages/finetune.py")

    table = at.dataframe[0].value
    assert list(table["phase"]) == [1, 2]
    assert list(table["epochs"]) == ["1–2", "3–3"]
    assert list(table["learning rate"]) == [1e-3, 1e-4]
    assert list(table["best val accuracy"]) == [0.55, 0.70]
    assert table["trainable params"].iloc[1] == 99_999  # this run's own phase, from its status
    assert parent.id in at.expander[0].label


def test_unfreeze_from_a_block_queues_the_blocks_first_layer(open_page, started):
    parent = _parent()
    at = open_page("pages/finetune.py")
    by_label(at.radio, "Unfreeze from").set_value("a block").run()
    by_label(at.selectbox, "Unfreeze MobileNetV2 from block").set_value("block_14").run()

    first = freeze.fine_tune_at_for_block("MobileNetV2", "block_14")
    assert any(f"Layer {first} is `block_14_expand`" in text for text in texts(at.caption))
    assert metric_value(at, "Trainable") == f"{count_params('MobileNetV2', 10, first).trainable:,}"
    by_label(at.button, "Start fine-tuning").click().run()

    job = get_run(at.query_params["job"])
    assert [run.id for run in started] == [job.id]
    assert (job.config().parent_run, job.config().fine_tune_at) == (parent.id, first)
    assert job.config().learning_rate == pytest.approx(1e-4)


def test_gradual_unfreezing_is_one_job_with_its_stages(open_page, started):
    _parent()
    at = open_page("pages/finetune.py")
    by_label(at.number_input, "Stages").set_value(2).run()
    by_label(at.number_input, "Epochs per stage").set_value(3).run()

    stages = at.dataframe[1].value
    assert list(stages["from block"]) == ["block_16", "block_14"]  # top + block_16, then 2 more blocks
    assert list(stages["learning rate"]) == pytest.approx([1e-4, 5e-5])
    by_label(at.button, "Start gradual unfreezing").click().run()

    assert len(started) == 1
    config = started[0].config()
    assert config.gradual_unfreezing.stages == 2 and config.gradual_unfreezing.epochs_per_stage == 3
    assert config.epochs == 6 and config.fine_tune_at == freeze.fine_tune_at_for_block("MobileNetV2", "block_16")


def test_freeze_depth_sweep_queues_one_job_per_depth_and_links_each_point(open_page, started, monkeypatch):
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "3")  # room for all three at once: the scheduler starts each
    parent = _parent()
    at = open_page("pages/finetune.py")
    by_label(at.multiselect, "Unfreeze from each of these blocks", prefix=True).set_value(
        ["whole base frozen", "block_16", "block_10"]).run()
    by_label(at.button, "Start sweep").click().run()

    assert [run.config().fine_tune_at for run in started] == [
        None, freeze.fine_tune_at_for_block("MobileNetV2", "block_16"),
        freeze.fine_tune_at_for_block("MobileNetV2", "block_10")]
    assert all(run.config().parent_run == parent.id for run in started)
    # The first job finished: its point appears, linked to its run.
    started[1].update_status(state="finished", trainable_params=500_000)
    started[1].write_history(HISTORY[:2] + [{**HISTORY[2], "val_accuracy": 0.9}])
    at.run()
    rows = at.dataframe[-1].value
    assert list(rows["open"]) == [f"/evaluate?run={run.id}" for run in started]
    assert list(rows["val_accuracy"].fillna(-1)) == [-1, 0.9, -1]
    chart = at.get("plotly_chart")[-1].proto.spec
    assert f"?run={started[1].id}" in chart and "500000" in chart
    assert len(sweep.list_sweeps()) == 1


def test_a_failed_run_shows_its_error_and_resume_queues_it_again(open_page, started):
    run = make_run(TrainConfig(dataset="sample-digits", weights="random"), state="failed", epochs_done=1,
                   error="Out of memory: OOM when allocating tensor. Try a smaller batch size or image size.")
    write_json_atomic(run.path / "backup" / "phase-1" / "training_metadata.json", {"epoch": 1, "batch": 0})  # Keras'
    at = open_page("pages/train.py", query_params={"run": run.id})
    assert any("The job failed: Out of memory: OOM when allocating tensor" in text for text in texts(at.error))

    by_label(at.button, "Resume from epoch 2").click().run()

    assert [each.id for each in started] == [run.id]
    assert run.status()["state"] == "queued" and run.status()["resumed_from_epoch"] == 1
    assert not any("The job failed" in text for text in texts(at.error))


def test_lr_finder_result_fills_the_learning_rate_input(open_page):
    task = create_task("lr_finder", {"config": {"dataset": "sample-digits"}})
    rates = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    write_json_atomic(task.path / "result.json", {"learning_rates": rates, "losses": [2.3, 2.2, 1.5, 0.9, 5.0],
                                                  "smoothed": [2.3, 2.25, 1.9, 1.4, 2.5], "suggested": 3.2e-3})
    task.update_status(state="finished")
    at = open_page("pages/train.py")
    assert by_label(at.number_input, "Learning rate").value == 1e-3
    at.session_state["lr_finder_task"] = task.id
    at.run()

    by_label(at.button, "Use this rate (3.2e-03)").click().run()

    assert by_label(at.number_input, "Learning rate").value == pytest.approx(3.2e-3)
    curve = [chart.proto.spec for chart in at.get("plotly_chart") if "lr_finder_curve" in chart.proto.id]
    assert len(curve) == 1 and "suggested 3.2e-03" in curve[0]


def test_lr_finder_button_queues_a_task_with_the_form_config(open_page, started):
    at = open_page("pages/train.py")
    by_label(at.button, "Find a learning rate").click().run()

    assert len(started) == 1
    task_json = (started[0].path / "task.json").read_text()
    assert '"kind": "lr_finder"' in task_json and '"backbone": "MobileNetV2"' in task_json
