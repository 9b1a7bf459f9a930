"""The freeze-depth sweep chart: accuracy never reads above 100 %."""

from tlcore.figures.training import freeze_depth_sweep


def test_the_sweep_y_axis_stops_at_100_percent():
    figure = freeze_depth_sweep([
        {"run": "a", "fine_tune_at": None, "trainable_params": 12_810, "val_accuracy": 0.91},
        {"run": "b", "fine_tune_at": 100, "trainable_params": 1_862_721, "val_accuracy": 1.0}])
    low, high = figure.layout.yaxis.range
    assert high <= 1.05 and max(figure.layout.yaxis.tickvals) == 1.0  # headroom for labels, no 110-150 % ticks
    assert low <= 0.91
