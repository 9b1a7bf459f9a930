"""The whole workflow in a real browser, as a person would use it offline: look at the built-in dataset, train a
small model from random initialisation, see its learning curves and TensorBoard command, re-attach to the run after a
reload, evaluate it, and predict on uploads. Also freeze by block on the Train page (its index and counts follow).
The one browser test that trains through the Train page's Start button (the others serve the session's trained runs).

Screenshots of every step go to test-artifacts/e2e/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.browser import wait_idle
from tlcore.backbones import freeze_blocks as freeze
from tlcore.modeling.model import count_params

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

APP_TIMEOUT_MS = 60_000          # first page render imports plotly/pandas; a cold TF import on a page is ~20 s
TRAIN_TIMEOUT_MS = 300_000       # TF start-up + graph tracing dominate: ~1.5 min here for 2 epochs and evaluation
EPOCHS = 2                       # seeded: epoch 1 ends at chance (BatchNorm statistics settling), epoch 2 ~80 %
CHANCE = 0.10


def test_deep_link_on_a_fresh_server_uses_the_app_navigation(page, app_url, artifacts_dir):
    """A bookmarked page URL (e.g. /train?run=...) opened first after a server restart gets the app's own sidebar.

    Must run before any test that opens the root URL: the module's server is fresh only until then.
    """
    page.goto(f"{app_url}/dataset")
    _wait_for_app(page)
    expect(page.get_by_role("heading", name="Dataset")).to_be_visible(timeout=APP_TIMEOUT_MS)
    nav = page.locator("[data-testid=stSidebarNav]")
    expect(nav).to_be_visible(timeout=APP_TIMEOUT_MS)
    page.screenshot(path=str(artifacts_dir / "0-deep-link-fresh-server.png"))
    expect(nav.get_by_text("Fine-tune", exact=True)).to_be_visible(timeout=5_000)
    expect(nav.get_by_text("shared", exact=True)).to_have_count(0)


def test_offline_workflow(page, app_url, studio_env, artifacts_dir, tmp_path):
    step = _Steps(page, artifacts_dir)

    # 1. Home
    page.goto(app_url)
    _wait_for_app(page)
    expect(page.get_by_role("heading", name="TL Studio")).to_be_visible(timeout=APP_TIMEOUT_MS)
    step.shot("1-home")

    # 2. Dataset: the built-in digits, counted, charted and shown
    _open_page(page, "Dataset")
    expect(page.get_by_role("heading", name="Dataset")).to_be_visible()
    expect(_metric(page, "Images")).to_have_text("1,797", timeout=APP_TIMEOUT_MS)
    expect(_metric(page, "Classes")).to_have_text("10")
    expect(page.locator("[data-testid=stPlotlyChart]").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stImage] img, .stImage img").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    assert page.locator("[data-testid=stImage] img, .stImage img").count() > 0
    step.shot("2-dataset")

    # 3. Train: ImageNet weights are absent offline, so Start is disabled until random initialisation is chosen
    _open_page(page, "Train")
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    notice = page.get_by_text(re.compile(r"ImageNet weights for MobileNetV2 (are not cached|will be downloaded)"))
    expect(notice).to_be_visible(timeout=APP_TIMEOUT_MS)
    start = page.get_by_role("button", name="Start training")
    if "cannot download" in notice.inner_text():
        expect(start).to_be_disabled()
    else:  # a developer machine with internet: Keras could download them, so Start is allowed
        expect(notice).to_contain_text("will be downloaded")
    step.shot("3a-train-offline-notice")

    page.get_by_text("Random initialisation (no pretrained weights)").click()
    _wait_idle(page)
    expect(start).to_be_enabled(timeout=APP_TIMEOUT_MS)
    _set_number(page, "Image size (px)", 32)
    trainable_before = _metric_number(page, "Trainable")
    freeze = page.locator("[data-testid=stSlider]").filter(has_text="Freeze base layers").get_by_role("slider")
    freeze.focus()  # the thumb's own box is covered by the track in this Streamlit version: focus it, then key
    freeze.press("Home")
    expect(freeze).to_have_value("0", timeout=APP_TIMEOUT_MS)
    _wait_idle(page)
    total = _metric_number(page, "Total parameters")
    expect(_metric(page, "Trainable")).not_to_have_text(f"{trainable_before:,}", timeout=APP_TIMEOUT_MS)
    trainable, frozen = _metric_number(page, "Trainable"), _metric_number(page, "Non-trainable")
    # Everything trains from scratch; only BatchNorm's moving mean/variance (34,112 values) are never trainable.
    assert trainable + frozen == total, (trainable, frozen, total)
    assert trainable > 0.98 * total and trainable > 100 * trainable_before, (trainable_before, trainable, total)
    _set_number(page, "Epochs", EPOCHS)
    step.shot("3b-train-configured")

    start.click()
    page.wait_for_url(re.compile(r"[?&]run=[^&]+"), timeout=APP_TIMEOUT_MS)
    run_id = re.search(r"[?&]run=([^&]+)", page.url).group(1)
    expect(page.get_by_text(f"Run {run_id}", exact=True)).to_be_visible(timeout=APP_TIMEOUT_MS)
    step.shot("3c-train-started", show=page.get_by_text(f"Run {run_id}", exact=True))
    finished = page.get_by_text(re.compile(r"Finished: test accuracy \d+(\.\d+)?%"))
    try:
        expect(finished).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    except AssertionError:
        page.screenshot(path=str(artifacts_dir / "3d-train-not-finished.png"))
        _print_worker_log(studio_env["runs"] / run_id)
        raise
    step.shot("3d-train-finished", show=finished)
    accuracy = float(re.search(r"test accuracy (\d+(?:\.\d+)?)%", finished.inner_text()).group(1)) / 100
    assert accuracy > CHANCE, f"test accuracy {accuracy:.1%} is not above chance after {EPOCHS} epoch(s)"
    run_folder = studio_env["runs"] / run_id
    assert (run_folder / "model.keras").is_file()
    assert json.loads((run_folder / "config.json").read_text())["fine_tune_at"] == 0  # the slider reached the job
    # Its learning curves and the TensorBoard command, with the events the worker wrote there
    curves = page.locator("[data-testid=stPlotlyChart]").filter(has_text="Learning curves")
    expect(curves).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text(f"tensorboard --logdir {run_folder / 'tensorboard'}")).to_be_visible()
    assert list((run_folder / "tensorboard" / "train").glob("events.out.tfevents.*"))
    step.shot("3d-train-curves", show=curves)

    # A reload is a new session: the run id in the URL re-attaches the monitor
    page.reload()
    _wait_for_app(page)
    expect(page.get_by_text(f"Run {run_id}", exact=True)).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(finished).to_be_visible(timeout=APP_TIMEOUT_MS)
    assert f"run={run_id}" in page.url
    step.shot("3e-train-reloaded", show=finished)

    # 4. Evaluate: the run's test metrics and confusion matrix
    _open_page(page, "Evaluate")
    expect(page.get_by_role("heading", name="Evaluate")).to_be_visible()
    expect(_metric(page, "Test accuracy")).to_have_text(f"{accuracy:.1%}", timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stPlotlyChart]").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stPlotlyChart]").filter(has_text="Confusion matrix")).to_be_visible()
    step.shot("4-evaluate")

    # 5. Predict: one real digit, then a text file named .png
    _open_page(page, "Predict")
    expect(page.get_by_role("heading", name="Predict")).to_be_visible()
    digit = sorted((studio_env["data"] / "sample-digits" / "3").glob("*.png"))[0]
    uploader = page.locator("[data-testid=stFileUploaderDropzoneInput]")
    uploader.set_input_files(str(digit))
    # a class, or "not sure" below the run's threshold (chosen on validation for 95 % accuracy on the answers given)
    prediction = page.get_by_text(re.compile(rf"{re.escape(digit.name)}: (\d|not sure)"))
    expect(prediction).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.locator("[data-testid=stPlotlyChart]").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    step.shot("5a-predict-digit")

    fake = tmp_path / "not-really.png"
    fake.write_text("this is a text file, not an image\n")
    page.get_by_role("button", name=re.compile("Delete|Remove", re.I)).first.click()
    expect(prediction).to_have_count(0, timeout=APP_TIMEOUT_MS)
    uploader.set_input_files(str(fake))
    expect(page.get_by_text(re.compile(r"not-really\.png is not a usable image"))).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    step.shot("5b-predict-bad-file")
    _assert_no_exception(page)


def _small_dataset(root: Path) -> str:
    """Two classes of 16 generated 32 px images (dark / bright)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, low in (("dark", 0), ("bright", 128)):
        (root / "small" / name).mkdir(parents=True)
        for index in range(16):
            pixels = rng.integers(low, low + 128, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "small" / name / f"{index}.png")
    return "small"


def test_freeze_by_block_sets_the_index_and_the_counts(page, app_url, studio_env, artifacts_dir):
    """Pick a block to train from: the freeze slider moves to its first layer, the counts follow, the strip names it.
    (Its own 1-epoch training moved into test_offline_workflow, which starts a run from this page already: the slider
    reaching the job's config, the learning curves and the TensorBoard command are checked there.)"""
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
    step.shot("training-1-block-chosen", show=strip)


class _Steps:
    def __init__(self, page, folder: Path):
        self.page, self.folder = page, folder

    def shot(self, name: str, show=None) -> None:
        """Screenshot once the page has settled; `show` scrolls that element into view first (the app scrolls
        inside its own container, so a full-page screenshot would not reach it)."""
        if show is None:
            _wait_idle(self.page)
        else:
            show.scroll_into_view_if_needed()
        self.page.screenshot(path=str(self.folder / f"{name}.png"))
        _assert_no_exception(self.page)


def _wait_for_app(page) -> None:
    page.locator("[data-testid=stApp]").wait_for(timeout=APP_TIMEOUT_MS)
    _wait_idle(page)


_wait_idle = wait_idle  # tests/e2e/browser.py


def _open_page(page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav] a").filter(has_text=title).first.click()
    _wait_for_app(page)


def _metric(page, label: str):
    """The value of the metric whose label is exactly `label` (has_text alone would match 'Non-trainable')."""
    label_node = page.locator("[data-testid=stMetricLabel]").get_by_text(label, exact=True)
    return page.locator("[data-testid=stMetric]").filter(has=label_node).locator("[data-testid=stMetricValue]")


def _metric_number(page, label: str) -> int:
    return int(_metric(page, label).inner_text().replace(",", ""))


def _set_number(page, label: str, value: int) -> None:
    box = page.locator("[data-testid=stNumberInput]").filter(has_text=label).locator("input")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))
    _wait_idle(page)


def _assert_no_exception(page) -> None:
    exceptions = page.locator("[data-testid=stException]")
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert "Traceback" not in page.locator("[data-testid=stApp]").inner_text()


def _print_worker_log(run_folder: Path) -> None:
    log = run_folder / "worker.log"
    if log.exists():
        print(f"--- {log} (last 40 lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
