"""The freeze slider that knows, in a real browser: on the Train page, with the built-in digits and MobileNetV2 on
stand-in pretrained weights, "Measure how each depth transfers" draws the probe-accuracy and step-time curves within
a minute (a bounded wait, not a timing assertion), moving the slider moves their markers, and "Use recommended depth"
sets the slider to the recommended depth.

Screenshots go to test-artifacts/e2e/freeze-depth-*.png.
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.browser import APP_TIMEOUT_MS, wait_idle
from tlcore.backbones import layer_count

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CURVES_WITHIN_MS = 60_000  # the "within a minute on the 2-core machine", from the click to the drawn curves
CURVES_TITLE = "Probe accuracy of the frozen features"
SLIDER_LABEL = "Freeze base layers below index"
LAYERS = layer_count("MobileNetV2")

# The curves' plotly figure as the page drew it: its solid vertical lines (the slider, one per panel), its dashed
# ones (the recommended depth) and the star's x (the recommended depth).
_MARKS_JS = """element => {
    const plot = element.querySelector('.js-plotly-plot');
    const lines = (plot.layout.shapes || []).filter(shape => shape.x0 === shape.x1);
    const star = plot.data.find(trace => trace.name === 'recommended depth');
    return {slider: lines.filter(shape => !(shape.line && shape.line.dash === 'dash')).map(shape => shape.x0),
            recommended: lines.filter(shape => shape.line && shape.line.dash === 'dash').map(shape => shape.x0),
            star: star ? star.x[0] : null};
}"""


@pytest.fixture(scope="module")
def standin_weights_on_server(studio_env, standin_weights_master):
    """The stand-in "ImageNet" MobileNetV2 weights (trained here on the digits; NOT ImageNet) in the server's Keras
    home, where an offline server keeps its cached downloads."""
    models = studio_env["keras"] / "models"
    models.mkdir(parents=True, exist_ok=True)
    for weights_file in standin_weights_master.iterdir():
        shutil.copyfile(weights_file, models / weights_file.name)
    return models


def _curves(page):
    return page.locator("[data-testid=stPlotlyChart]").filter(has_text=CURVES_TITLE)


def _marks(page) -> dict:
    return _curves(page).first.evaluate(_MARKS_JS)


def _wait_for_marks(page, slider_at: int) -> dict:
    """The curves redrawn with the slider's marker at `slider_at` on both panels (each rerun draws a new figure)."""
    page.wait_for_function(
        f"""() => {{
            const element = [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
                .find(chart => chart.innerText.includes({CURVES_TITLE!r}));
            const plot = element && element.querySelector('.js-plotly-plot');
            if (!plot || !plot.layout) return false;
            const solid = (plot.layout.shapes || []).filter(
                shape => shape.x0 === shape.x1 && !(shape.line && shape.line.dash === 'dash'));
            return solid.length === 2 && solid.every(shape => shape.x0 === {slider_at});
        }}""", timeout=APP_TIMEOUT_MS)
    return _marks(page)


def test_curves_follow_the_slider_and_set_the_recommended_depth(page, app_url, standin_weights_on_server,
                                                                  artifacts_dir):
    page.goto(f"{app_url}/train")  # the built-in digits: the default dataset, written on first use
    page.locator("[data-testid=stApp]").wait_for(timeout=APP_TIMEOUT_MS)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Train")).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(page.get_by_text("ImageNet (pretrained)")).to_be_visible(timeout=APP_TIMEOUT_MS)  # the default choice
    size = page.locator("[data-testid=stNumberInput]").filter(has_text="Image size (px)").locator("input")
    size.fill("32")
    size.press("Enter")
    expect(size).to_have_value("32")
    wait_idle(page)
    slider = page.locator("[data-testid=stSlider]").filter(has_text=SLIDER_LABEL).get_by_role("slider")
    expect(slider).to_have_value(str(LAYERS), timeout=APP_TIMEOUT_MS)  # whole base frozen, the page's default
    expect(_curves(page)).to_have_count(0)

    page.get_by_role("button", name="Measure how each depth transfers").click()
    expect(_curves(page)).to_be_visible(timeout=CURVES_WITHIN_MS)
    wait_idle(page)
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    marks = _wait_for_marks(page, LAYERS)
    recommended = marks["star"]
    assert isinstance(recommended, (int, float)) and 0 < recommended <= LAYERS
    assert marks["recommended"] == [recommended, recommended], "the recommended depth is marked on both panels"
    expect(page.get_by_text("Recommended depth:")).to_be_visible()
    expect(_curves(page)).to_contain_text("Seconds per training step")
    _curves(page).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "freeze-depth-1-curves.png"))

    # Move the slider away from the recommendation: its markers follow, the recommendation stays.
    slider.focus()
    page.keyboard.press("Home")  # 0: the whole base trains
    expect(slider).to_have_value("0", timeout=APP_TIMEOUT_MS)
    wait_idle(page)
    moved = _wait_for_marks(page, 0)
    assert moved["star"] == recommended and moved["recommended"] == [recommended, recommended]
    page.screenshot(path=str(artifacts_dir / "freeze-depth-2-slider-moved.png"))

    page.get_by_role("button", name="Use recommended depth").click()
    expect(slider).to_have_value(str(int(recommended)), timeout=APP_TIMEOUT_MS)
    wait_idle(page)
    assert _wait_for_marks(page, recommended)["slider"] == [recommended, recommended]
    expect(page.locator("[data-testid=stException]")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "freeze-depth-3-recommended.png"))
