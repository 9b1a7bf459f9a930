"""Backbones page: measure and probe tasks are started from the page and their results shown; offline stated plainly."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture
def started_tasks(studio, monkeypatch) -> list:
    """The tasks the page starts, recorded instead of spawned: each test runs its task in-process."""
    from tlcore.jobs import scheduler as jobs

    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    return started


@pytest.fixture
def backbones_page(open_page) -> AppTest:
    return open_page("pages/backbones.py", timeout=60)


def _table(at: AppTest, column: str):
    """The dataframe on the page that has this column (the measured and probe tables each have their own)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def test_measure_button_runs_a_task_and_shows_measured_beside_published(started_tasks, backbones_page):
    from tlcore.worker import run_job

    at = backbones_page
    at.number_input(key="measure_size").set_value(32)
    at.button(key="measure_button").click().run()
    assert len(started_tasks) == 1 and started_tasks[0].status()["kind"] == "measure"
    assert at.session_state["measure_task"] == started_tasks[0].id
    assert run_job(started_tasks[0], wait=False) == "finished"
    at.run()
    assert not at.exception
    assert any("Measured on **CPU (" in s.value or "Measured on **" in s.value for s in at.success)
    table = _table(at, "Parameters")
    row = table.iloc[0]
    assert row["Backbone"] == "MobileNetV2" and row["Input (px)"] == 32 and row["Device"].startswith("CPU (")
    assert row["Parameters"] == "2,257,984" and row["Published params (with top)"] == "3.5 M"
    assert row["Feature dim"] == "1,280" and row["Layers"] == "154" and row["Published CPU ms / step"] == "25.9"
    assert re.fullmatch(r"\d[\d,]*\.\d", row["ms / image, batch 1"])  # one decimal, thousands separated


def test_probe_defaults_refuse_uncached_imagenet_and_run_with_random_weights(started_tasks, backbones_page):
    from tlcore.worker import run_job

    at = backbones_page
    assert any("not cached for: MobileNetV2" in w.value for w in at.warning)
    assert any("This server is offline" in w.value for w in at.warning)
    at.number_input(key="probe_size").set_value(32)
    at.number_input(key="probe_per_class").set_value(6)
    at.checkbox(key="probe_random").check()
    at.button(key="probe_button").click().run()
    task = started_tasks[0]
    assert task.status()["kind"] == "probe"
    assert run_job(task, wait=False) == "finished"
    at.run()
    table = _table(at, "Validation accuracy")
    assert table.iloc[0]["Backbone"] == "MobileNetV2" and table.iloc[0]["Rank"] == 1
    assert 0 <= table.iloc[0]["Validation accuracy"] <= 1 and table.iloc[0]["Feature dim"] == 1280
    assert any("60 images (10 classes, ≤6 per class) at 32 px with random weights" in s.value for s in at.success)


def test_failed_task_shows_its_error(started_tasks, backbones_page):
    from tlcore.worker import run_job

    at = backbones_page
    at.multiselect(key="measure_names").set_value(["InceptionV3"])
    at.number_input(key="measure_size").set_value(32)
    at.button(key="measure_button").click().run()
    run_job(started_tasks[0], wait=False)
    at.run()
    assert "at least 75 px" in _table(at, "Parameters").iloc[0]["Note"]
