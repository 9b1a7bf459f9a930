"""Backbones page: downloading ImageNet weights (online / offline), and your own model as a backbone through to Train."""

from __future__ import annotations

from pathlib import Path

import pytest
from page_helpers import by_label
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def started_tasks(studio, monkeypatch) -> list:
    from tlcore.jobs import scheduler as jobs

    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    return started


def test_offline_no_download_button_and_the_upload_route_named(open_page):
    at = open_page("pages/backbones.py", timeout=60)

    assert any("offline" in w.value and "Upload a weights file" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key and b.key.startswith("download_")]
    assert at.multiselect(key="weights_names").value == ["MobileNetV2", "EfficientNetB0"]


def test_online_download_button_starts_the_task_and_shows_its_progress(started_tasks, open_page, monkeypatch, pretend_online):

    pretend_online(True)
    at = open_page("pages/backbones.py", timeout=60)
    assert {b.key for b in at.button} >= {"download_MobileNetV2", "download_EfficientNetB0"}
    assert any(m.value == "downloadable" for m in at.markdown)

    at.button(key="download_EfficientNetB0").click().run()

    task = started_tasks[0]
    assert task.status()["kind"] == "download_weights"
    assert (task.path / "task.json").read_text().count('"backbone": "EfficientNetB0"') == 1
    task.update_status(state="running", pid=None, progress=0.4, phase="downloaded 12.0 of 29.1 MB")
    monkeypatch.setattr("tlcore.jobs.scheduler.refresh", lambda run: run.status()["state"])  # no pid to check
    at.run()
    bars = at.get("progress")
    assert len(bars) == 1 and bars[0].value == 40
    assert "downloaded 12.0 of 29.1 MB" in bars[0].proto.text


@pytest.fixture
def run_with_model(studio, trained_run):
    """The shared tiny trained run (MobileNetV2 at 32 px, 3 classes), in this studio's runs folder."""
    assert trained_run.path.parent == studio.runs_dir
    return trained_run.id


def test_cut_a_runs_model_and_train_page_offers_it_with_exact_counts(run_with_model, open_page):
    from tlcore.modeling.model import count_params

    at = open_page("pages/backbones.py", timeout=60)
    assert at.selectbox(key="custom_run").value == run_with_model
    at.button(key="custom_inspect").click().run()
    cut = at.selectbox(key="custom_cut")
    assert "block_5_add (Add, 4×4×32, " in cut.format_func("block_5_add")
    cut.set_value("block_5_add")
    assert at.selectbox(key="custom_preprocess").value == "tf"
    at.text_input(key="custom_name").input("lab").run()
    at.button(key="custom_save").click().run()

    assert any("Saved **custom-lab**" in s.value for s in at.success), [e.value for e in at.error]
    listed = next(frame.value for frame in at.dataframe if "Cut after" in frame.value.columns)
    assert listed.iloc[0]["Backbone"] == "custom-lab" and listed.iloc[0]["Cut after"] == "block_5_add"

    train = AppTest.from_file(str(APP), default_timeout=60)
    train.switch_page("pages/train.py")
    train.run()
    backbone = by_label(train.selectbox, "Backbone")
    assert "custom-lab" in backbone.options
    backbone.set_value("custom-lab").run()
    assert any("own trained weights" in s.value for s in train.success)
    starting = by_label(train.radio, "Starting weights")
    assert starting.format_func(starting.value) == "Its own trained weights"
    counts = count_params("custom-lab", 10, None)
    assert by_label(train.metric, "Total parameters").value == f"{counts.total:,}"


def test_a_corrupt_upload_gets_a_clear_message(open_page):
    at = open_page("pages/backbones.py", timeout=60)
    at.radio(key="custom_origin").set_value("upload").run()

    at.file_uploader(key="custom_upload").set_value(("mine.keras", b"garbage", "application/octet-stream")).run()

    # shown as text: the escaped backticks read as plain ones
    assert any("`mine.keras` is not a Keras model file" in e.value.replace("\\", "") for e in at.error)


def test_the_upload_form_names_the_download_address_and_the_train_page_size(open_page):
    at = open_page("pages/backbones.py", timeout=60)
    assert at.number_input(key="upload_size").value == 96  # the Train page's default, not the backbone's 224

    at.session_state["last_train_image_size"] = 160  # the tutorial's size, set on the Train page
    at.number_input(key="upload_size").set_value(160).run()
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5" in shown
    assert ("https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5") in shown
