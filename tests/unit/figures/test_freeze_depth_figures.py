"""The freeze slider's curves: both panels over the strip's x-axis, the slider and the recommended depth on both."""

from tlcore.figures import freeze_depth_curves, freeze_strip


def _report(recommended: int = 20) -> dict:
    rows = [{"block": f"b{depth}", "fine_tune_at": depth, "layer_index": depth - 1, "layer_name": f"l{depth}",
             "feature_width": depth, "accuracy": 0.5 + depth / 100, "accuracy_spread": 0.02}
            for depth in (10, 20, 30)]
    cost_rows = [{"fine_tune_at": depth, "trainable_params": 100 - depth, "seconds_per_step": 0.3 - depth / 100,
                  "timed": depth in (0, 30), "peak_memory_bytes": None} for depth in (0, 10, 20, 30)]
    probe = {"layer_count": 30, "rows": rows, "chance": 0.25, "recommended_fine_tune_at": recommended}
    return {"probe": probe, "cost": {"rows": cost_rows, "memory_note": "not reported on CPU"}}


def _vertical_lines(figure) -> list[tuple[float, str | None, str]]:
    return [(shape.x0, shape.line.dash, shape.yref) for shape in figure.layout.shapes if shape.x0 == shape.x1]


def test_both_panels_share_the_strips_axis_and_mark_slider_and_recommendation():
    figure = freeze_depth_curves(_report(20), 10)
    accuracy, seconds, star = figure.data
    assert list(accuracy.x) == [10, 20, 30] and list(accuracy.error_y.array) == [0.02] * 3
    assert list(seconds.x) == [0, 10, 20, 30]
    assert list(seconds.marker.symbol) == ["circle", "circle-open", "circle-open", "circle"]  # timed vs estimated
    assert list(star.x) == [20] and star.y[0] == 0.7
    lines = _vertical_lines(figure)
    assert sorted(x for x, dash, _ in lines if dash != "dash") == [10, 10], "the slider on both panels"
    assert sorted(x for x, dash, _ in lines if dash == "dash") == [20, 20], "the recommendation on both panels"
    assert list(figure.layout.xaxis2.range) == list(freeze_strip("MobileNetV2", None).layout.xaxis.range)[:1] + [30]
    assert "not reported on CPU" in seconds.customdata[0][2]


def test_whole_base_frozen_puts_the_slider_at_the_layer_count():
    lines = _vertical_lines(freeze_depth_curves(_report(30), None))
    assert sorted(x for x, dash, _ in lines if dash != "dash") == [30, 30]
