"""LR finder, gradual unfreezing, phase table, freeze-depth sweep and their figures."""

import json

import numpy as np
import pytest

from tlcore.backbones import freeze_blocks as freeze
from tlcore.config.training import GradualUnfreezing
from tlcore.figures import training as tuning_figures
from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import count_params
from tlcore.runs.folders import create_run
from tlcore.training import lr_finder, sweep, unfreezing
from tlcore.worker import run_job


# --- learning-rate finder ------------------------------------------------------------------------------------------
def test_suggestion_is_the_steepest_fall_before_the_minimum():
    rates = list(lr_finder.sweep_rates(1e-5, 1.0, 11))  # one step per half decade
    losses = [2.3, 2.3, 2.29, 2.2, 1.8, 1.0, 0.7, 0.6, 0.9, 3.0, 9.0]
    suggested = lr_finder.suggest_learning_rate(rates, losses)
    assert suggested == pytest.approx(rates[4])  # 2.2 → 1.8 → 1.0: the steepest part, well below the minimum (rates[7])
    assert lr_finder.smooth([1.0, 1.0, 1.0]) == pytest.approx([1.0, 1.0, 1.0])  # bias-corrected from the first step
    with pytest.raises(ValueError, match="fewer than three steps"):
        lr_finder.suggest_learning_rate(rates[:2], losses[:2])


def test_lr_finder_task_sweeps_the_current_config_and_its_figure_marks_the_suggestion(tiny_dataset, make_config):
    config = make_config(tiny_dataset(), backbone="VGG16")
    reports = []
    result = lr_finder.lr_finder_task({"config": config.to_dict(), "steps": 30, "max_lr": 10.0},
                                      lambda fraction, message: reports.append(fraction))

    rates = result["learning_rates"]
    assert 3 <= len(rates) <= 30 and rates[0] == pytest.approx(1e-6)
    assert len(result["losses"]) == len(result["smoothed"]) == len(rates)
    assert rates[0] <= result["suggested"] <= rates[-1]
    assert reports == sorted(reports) and reports[-1] <= 1.0
    figure = tuning_figures.lr_finder_curve(result)
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.shapes[0].x0 == result["suggested"]
    json.dumps(result)  # result.json must be plain JSON


# --- gradual unfreezing --------------------------------------------------------------------------------------------
def test_stages_unfreeze_blocks_from_the_top():
    blocks = freeze.blocks("MobileNetV2")
    assert unfreezing.stage_fine_tune_at("MobileNetV2", 1, 2) == blocks[-2].first_layer  # top + block_16
    assert unfreezing.stage_fine_tune_at("MobileNetV2", 3, 2) == blocks[-6].first_layer
    assert unfreezing.stage_fine_tune_at("MobileNetV2", 50, 2) == 0  # never past the first layer


def test_gradual_unfreezing_runs_every_stage_as_a_phase_of_one_run(trained_run):
    plan = GradualUnfreezing(stages=2, blocks_per_stage=1, epochs_per_stage=1, lr_factor=0.5)
    config = unfreezing.gradual_config(trained_run.config(), trained_run.id, plan)
    job = create_run(config)
    assert run_job(job, wait=False) == "finished", job.status().get("error")

    history = job.history()
    assert [(row["epoch"], row["phase"]) for row in history] == [(1, 1), (2, 2), (3, 3)]
    parent_rate = trained_run.config().learning_rate
    assert [row["learning_rate"] for row in history[1:]] == pytest.approx([parent_rate / 10, parent_rate / 20])
    table = unfreezing.phase_table(job)
    at_stage = [unfreezing.stage_fine_tune_at("MobileNetV2", stage, 1) for stage in (1, 2)]
    assert [row["trainable params"] for row in table] == [
        trained_run.status()["trainable_params"],
        *(count_params("MobileNetV2", 3, at).trainable for at in at_stage)]
    assert [row["epochs"] for row in table] == ["1–1", "2–2", "3–3"]
    figure = tuning_figures.phase_curves(history)
    assert [shape.x0 for shape in figure.layout.shapes] == [1.5, 2.5]
    assert [note.text for note in figure.layout.annotations] == ["phase 2", "phase 3"]


# --- freeze-depth sweep --------------------------------------------------------------------------------------------
def test_sweep_queues_one_job_per_depth_and_plots_finished_points_linked_to_their_runs(
        make_config, monkeypatch, studio_dirs):
    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "3")  # room for all three at once: the scheduler starts each
    sweep_id = sweep.submit_sweep(make_config("d"), [None, 100, 100, 140])

    assert [run.config().fine_tune_at for run in started] == [None, 100, 140]
    points = sweep.sweep_points(sweep.load_sweep(sweep_id))
    assert [point["state"] for point in points] == ["queued"] * 3
    assert [point["trainable_layers"] for point in points] == [0, sweep.trainable_layers("MobileNetV2", 100),
                                                              sweep.trainable_layers("MobileNetV2", 140)]
    assert points[1]["trainable_layers"] > points[2]["trainable_layers"] > 0
    for run, accuracy, trainable in ((started[0], 0.6, 12_810), (started[2], 0.8, 400_000)):
        run.update_status(state="finished", trainable_params=trainable)
        run.write_history([{"epoch": 1, "phase": 1, "val_accuracy": accuracy - 0.1},
                           {"epoch": 2, "phase": 1, "val_accuracy": accuracy}])
    figure = tuning_figures.freeze_depth_sweep(sweep.sweep_points(sweep.load_sweep(sweep_id)))
    trace = figure.data[0]
    assert list(trace.x) == [12_810, 400_000] and list(trace.y) == [0.6, 0.8]
    assert [list(item) for item in trace.customdata] == [[started[0].id, f"?run={started[0].id}"],
                                                        [started[2].id, f"?run={started[2].id}"]]
    with pytest.raises(ValueError, match="at least two different freeze depths"):
        sweep.submit_sweep(make_config("d"), [100, 100])
    with pytest.raises(KeyError):
        sweep.load_sweep("../etc")
    assert np.isclose(sweep.load_sweep(sweep_id)["config"]["learning_rate"], 1e-3)
