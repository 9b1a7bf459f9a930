"""Train page, above the freeze strip: the transferability task is queued with the page's config; once its result is
stored, the accuracy-by-depth and time-by-depth curves are drawn with the slider and the recommended depth marked,
and "Use recommended depth" moves the slider (and the block picker)."""

import json

from page_helpers import by_label, texts

from tlcore.backbones import transferability
from tlcore.config import TrainConfig
from tlcore.jobs.tasks import list_tasks
from tlcore.storage.atomic import write_json_atomic

FREEZE = "Freeze base layers below index"


def _store_result(config: TrainConfig, class_count: int) -> dict:
    """What the task would store for this config, made by hand (no TensorFlow): a probe that rises to block_6 and
    then stays flat, so the rule picks block_6's end."""
    taps, _ = transferability.tap_points(config.backbone)
    rows = []
    for tap in taps:
        accuracy = 0.9 if tap.layer_index >= 62 else 0.5 + tap.layer_index / 200
        rows.append({"block": tap.block, "layer_index": tap.layer_index, "fine_tune_at": tap.fine_tune_at,
                     "layer_name": "x", "feature_width": 32, "accuracy": accuracy, "accuracy_spread": 0.01,
                     "fold_accuracies": [accuracy] * 3})
    recommended = transferability.recommended_row(rows)
    _, _, probe_path = transferability._cache_key(config.dataset, config.backbone, config.image_size, config.weights,
                                                  config.split, transferability.DEFAULT_MAX_IMAGES, 0)
    probe = {"backbone": config.backbone, "image_size": config.image_size, "weights": config.weights, "images": 900,
             "classes": class_count, "folds": 3, "layer_count": 154, "evenly_spaced": False,
             "taps_note": "Probed at the end of every block.", "rows": rows,
             "recommended_fine_tune_at": recommended["fine_tune_at"], "recommended_block": recommended["block"],
             "rule": transferability.RECOMMENDATION_RULE, "chance": 0.1}
    probe.update(forward_seconds_per_image=0.004, layer_compute=[1.0] * 154, device="CPU")
    write_json_atomic(probe_path, probe)
    return probe


def _curves(at) -> dict | None:
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next((chart for chart in charts if any(trace.get("name") == "probe accuracy" for trace in chart["data"])),
                None)


def _slider_marks(curves: dict) -> list[float]:
    """x of the solid vertical lines (the slider); the recommended depth's are dashed."""
    return [shape["x0"] for shape in curves["layout"]["shapes"]
            if shape.get("x0") == shape.get("x1") and shape.get("line", {}).get("dash") != "dash"]


def test_curves_marker_and_button_set_the_slider(open_page):
    at = open_page("pages/train.py")
    by_label(at.radio, "Starting weights").set_value("random").run()
    assert _curves(at) is None
    by_label(at.button, "Measure how each depth transfers").click().run()

    tasks = [task for task in list_tasks()
             if json.loads((task.path / "task.json").read_text())["kind"] == "transferability"]
    assert len(tasks) == 1, "the button queues one transferability task"
    params = json.loads((tasks[0].path / "task.json").read_text())["params"]
    config = TrainConfig.from_dict(params["config"])
    assert config.weights == "random" and config.backbone == "MobileNetV2"
    probe = _store_result(config, params["class_count"])
    recommended = probe["recommended_fine_tune_at"]
    assert probe["recommended_block"] == "block_6"

    at.run()
    curves = _curves(at)
    assert curves is not None, "the stored result is drawn"
    names = {trace.get("name") for trace in curves["data"]}
    assert {"probe accuracy", "seconds per step", "recommended depth"} <= names
    star = next(trace for trace in curves["data"] if trace.get("name") == "recommended depth")
    assert list(star["x"]) == [recommended]
    assert 154 in _slider_marks(curves), "the slider (whole base frozen) is marked"
    assert any("Recommended depth" in text for text in texts(at.caption))

    by_label(at.button, "Use recommended depth").click().run()
    assert by_label(at.slider, FREEZE, prefix=True).value == recommended
    assert by_label(at.selectbox, "Train from block").value == "block_7"  # the first block that now trains
    assert recommended in _slider_marks(_curves(at)), "the slider's marker moved with it"


def test_finetune_page_shows_the_curves_and_the_button_sets_its_slider(open_page):
    from page_helpers import make_run

    parent = make_run(TrainConfig(dataset="sample-digits", weights="random", learning_rate=2e-3), epochs_done=3,
                      class_names=[str(n) for n in range(10)], model=b"stand-in for a saved model")
    config = parent.config()
    probe = _store_result(config, 10)
    at = open_page("pages/finetune.py")
    curves = _curves(at)
    assert curves is not None
    assert 100 in _slider_marks(curves), "the fine-tune slider's default (the tutorial's layer 100) is marked"
    by_label(at.button, "Use recommended depth").click().run()
    assert by_label(at.slider, "Unfreeze MobileNetV2 from layer", prefix=True).value == probe["recommended_fine_tune_at"]
    assert probe["recommended_fine_tune_at"] in _slider_marks(_curves(at))
