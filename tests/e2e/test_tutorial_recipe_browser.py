"""The TensorFlow tutorial's recipe (seed 003: MobileNetV2, flip + rotation 0.2, then fine-tuning from layer 100 at a
tenth of the learning rate) set up in a real browser on Train and Fine-tune alone, without visiting another page.

Stand-in "ImageNet" weights (tests/conftest.py `standin_weights_master`: NOT ImageNet weights) are the cached download
of the server's Keras home; the dataset is the shared tiny one (3 digit classes, 32 px); each phase trains 1 epoch.
What each run trained is read back from its config.json. Screenshots go to test-artifacts/e2e/recipe-*.png.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from test_workflow import APP_TIMEOUT_MS, TRAIN_TIMEOUT_MS, _assert_no_exception, _set_number, _wait_for_app, _wait_idle

from tests.conftest import TRAINED_DATASET, link_standin_weights

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TUTORIAL_RATE = 1e-4  # base_learning_rate in the tutorial
TUTORIAL_ROTATION = 0.2
TUTORIAL_FINE_TUNE_AT = 100


@pytest.fixture
def recipe_studio(trained_run_master, standin_weights_master, studio_env):
    """The tiny dataset in the app's data folder and the stand-in MobileNetV2 weights as its cached download."""
    source = trained_run_master.parent.parent / "data" / TRAINED_DATASET
    shutil.copytree(source, studio_env["data"] / TRAINED_DATASET, dirs_exist_ok=True)
    link_standin_weights(standin_weights_master, studio_env["keras"])
    return studio_env


def _slider(page, label: str):
    return page.locator("[data-testid=stSlider]").filter(has_text=label).get_by_role("slider")


def _slide_to(page, label: str, steps_from_start: int, value: str) -> None:
    """Streamlit's slider thumb is covered by its track: focus it, then Home and ArrowRight `steps_from_start` times."""
    slider = _slider(page, label)
    slider.focus()
    slider.press("Home")
    for _ in range(steps_from_start):
        slider.press("ArrowRight")
    expect(slider).to_have_value(value, timeout=APP_TIMEOUT_MS)
    _wait_idle(page)


def _finished_run(page, runs, artifacts_dir, name: str) -> str:
    """Wait for the job monitor's "Finished" line (screenshot either way)."""
    finished = page.get_by_text(re.compile(r"Finished: test accuracy \d+(\.\d+)?%"))
    try:
        expect(finished).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    finally:
        page.screenshot(path=str(artifacts_dir / f"recipe-{name}.png"))
    _assert_no_exception(page)
    return finished.inner_text()


def test_the_tutorial_recipe_is_set_up_on_train_and_fine_tune_alone(page, app_url, recipe_studio, artifacts_dir):
    runs = recipe_studio["runs"]

    # Train: stand-in "ImageNet" weights (cached), whole base frozen, the tutorial's rate, flip + rotation 0.2.
    page.goto(f"{app_url}/train?dataset={TRAINED_DATASET}")
    _wait_for_app(page)
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=APP_TIMEOUT_MS)
    _set_number(page, "Image size (px)", 32)
    expect(page.get_by_role("radio", name=re.compile("ImageNet"))).to_be_checked()
    start = page.get_by_role("button", name="Start training")
    expect(start).to_be_enabled(timeout=APP_TIMEOUT_MS)  # the stand-in is the cached download: no offline notice
    _set_number(page, "Epochs", 1)
    rate = page.locator("[data-testid=stNumberInput]").filter(has_text="Learning rate").locator("input")
    rate.fill(f"{TUTORIAL_RATE:.5f}")
    rate.press("Enter")
    _wait_idle(page)
    toggle = page.locator("label").filter(has_text=re.compile(r"^Data augmentation \("))  # st.toggle: input in label
    augment = toggle.locator("input")
    if not augment.is_checked():
        toggle.click()
        _wait_idle(page)
    expect(augment).to_be_checked()
    page.locator("[data-testid=stExpander]").filter(has_text="Augmentation strengths").locator("summary").click()
    _wait_idle(page)
    page.locator("[data-testid=stSelectbox]").filter(has_text="Flip").click()
    page.get_by_role("option", name="horizontal", exact=True).click()
    _wait_idle(page)
    _slide_to(page, "Rotation (fraction of a full turn)", 4, "0.2")  # 0.05 per step
    _slide_to(page, "Zoom", 0, "0")  # the tutorial zooms not
    page.screenshot(path=str(artifacts_dir / "recipe-1-train.png"))

    start.click()
    page.wait_for_url(re.compile(r"[?&]run=[^&]+"), timeout=APP_TIMEOUT_MS)
    parent_id = re.search(r"[?&]run=([^&]+)", page.url).group(1)
    _finished_run(page, runs, artifacts_dir, "2-trained")
    parent = json.loads((runs / parent_id / "config.json").read_text())
    assert parent["backbone"] == "MobileNetV2" and parent["weights"] == "imagenet"
    assert parent["fine_tune_at"] is None and parent["augment"] is True
    assert parent["learning_rate"] == pytest.approx(TUTORIAL_RATE)
    assert (parent["augmentation"]["flip"], parent["augmentation"]["rotation"], parent["augmentation"]["zoom"]) == (
        "horizontal", pytest.approx(TUTORIAL_ROTATION), 0.0)

    # Fine-tune: its defaults are the tutorial's (layer 100, a tenth of the rate); only the epochs change.
    page.goto(f"{app_url}/finetune?run={parent_id}")
    _wait_for_app(page)
    expect(page.get_by_role("heading", name="Fine-tune")).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(_slider(page, "Unfreeze MobileNetV2 from layer")).to_have_value(
        str(TUTORIAL_FINE_TUNE_AT), timeout=APP_TIMEOUT_MS)
    new_rate = page.get_by_label("Learning rate (default: 10× lower than the run's)")  # the "Fine-tune once" tab
    assert float(new_rate.input_value()) == pytest.approx(TUTORIAL_RATE / 10)
    _set_number(page, "More epochs", 1)
    page.screenshot(path=str(artifacts_dir / "recipe-3-finetune.png"))
    page.get_by_role("button", name="Start fine-tuning").click()
    child_folder = _child_run(page, runs, parent_id)
    _finished_run(page, runs, artifacts_dir, "4-fine-tuned")
    _wait_for_state(page, child_folder, "finished")
    child = json.loads((child_folder / "config.json").read_text())
    assert child["parent_run"] == parent_id
    assert child["fine_tune_at"] == TUTORIAL_FINE_TUNE_AT
    assert child["learning_rate"] == pytest.approx(TUTORIAL_RATE / 10)
    assert child["augmentation"] == parent["augmentation"] and child["augment"] is True


def _child_run(page, runs, parent_id: str):
    """The one run folder the Start button made besides the parent's."""
    for _ in range(APP_TIMEOUT_MS // 500):
        children = [path for path in runs.iterdir() if path.name != parent_id and (path / "config.json").is_file()]
        if children:
            assert len(children) == 1, [path.name for path in children]
            return children[0]
        page.wait_for_timeout(500)
    raise AssertionError("Start fine-tuning made no run")


def _wait_for_state(page, folder, state: str) -> None:
    """The job's status.json reaches `state` (the page said so already; the file is what the job wrote)."""
    for _ in range(TRAIN_TIMEOUT_MS // 1000):
        try:
            if json.loads((folder / "status.json").read_text()).get("state") == state:
                return
        except (OSError, ValueError):
            pass
        page.wait_for_timeout(1000)
    raise AssertionError(f"{folder.name} never reached {state}: {(folder / 'status.json').read_text()}")
