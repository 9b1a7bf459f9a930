"""Freeze by block in a real browser: pick a block, see the index and counts follow, start a 1-epoch run, see its
learning curves and the TensorBoard command. Screenshots go to test-artifacts/e2e/training-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_workflow import (
    APP_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    _metric_number,
    _set_number,
    _Steps,
    _wait_for_app,
    _wait_idle,
)

from tlcore.backbones import freeze_blocks as freeze
from tlcore.modeling.model import count_params

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _small_dataset(root: Path) -> str:
    """Two classes of 16 generated 32 px images (dark / bright), so one epoch is mostly TensorFlow start-up."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, low in (("dark", 0), ("bright", 128)):
        (root / "small" / name).mkdir(parents=True)
        for index in range(16):
            pixels = rng.integers(low, low + 128, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "small" / name / f"{index}.png")
    return "small"


def test_freeze_by_block_then_train_one_epoch(page, app_url, studio_env, artifacts_dir):
    step = _Steps(page, artifacts_dir)
    dataset = _small_dataset(studio_env["data"])
    page.goto(f"{app_url}/train?dataset={dataset}")
    _wait_for_app(page)
    random_weights = page.get_by_text("Random initialisation (no pretrained weights)")
    expect(random_weights).to_be_visible(timeout=APP_TIMEOUT_MS)
    random_weights.click()
    _wait_idle(page)
    _set_number(page, "Image size (px)", 32)

    page.locator("[data-testid=stSelectbox]").filter(has_text="Train from block").click()
    page.get_by_role("option", name=re.compile(r"^block_16 ")).click()
    _wait_idle(page)

    at = freeze.fine_tune_at_for_block("MobileNetV2", "block_16")
    slider = page.locator("[data-testid=stSlider]").filter(has_text="Freeze base layers").get_by_role("slider")
    expect(slider).to_have_value(str(at), timeout=APP_TIMEOUT_MS)
    expected = count_params("MobileNetV2", 2, at)
    assert (_metric_number(page, "Trainable"), _metric_number(page, "Total parameters")) == (
        expected.trainable, expected.total)
    strip = page.locator("[data-testid=stPlotlyChart]").first
    expect(strip).to_contain_text("block_16")
    _set_number(page, "Epochs", 1)
    step.shot("training-1-block-chosen", show=strip)

    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"[?&]run=[^&]+"), timeout=APP_TIMEOUT_MS)
    run_id = re.search(r"[?&]run=([^&]+)", page.url).group(1)
    curves = page.locator("[data-testid=stPlotlyChart]").filter(has_text="Learning curves")
    expect(curves).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Finished: test accuracy"))).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    run_folder = studio_env["runs"] / run_id
    expect(page.get_by_text(f"tensorboard --logdir {run_folder / 'tensorboard'}")).to_be_visible()
    step.shot("training-2-curves", show=curves)

    config = (run_folder / "config.json").read_text()
    assert f'"fine_tune_at": {at}' in config
    assert list((run_folder / "tensorboard" / "train").glob("events.out.tfevents.*"))
