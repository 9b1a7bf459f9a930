"""One fit path and what varies it: phases, callbacks, checkpoints, feature cache, LR finder, unfreezing, sweeps."""

from tlcore.training.devices import GPU_ONLY_REASON, describe
from tlcore.training.fast_estimate import MEASURED_POINTS, expected_speedup, suggested_views, val_per_train
from tlcore.training.fit import TENSORBOARD_FOLDER, balanced_class_weights, prepare_split
from tlcore.training.sweep import list_sweeps, load_sweep, submit_sweep, sweep_points
from tlcore.training.unfreezing import describe_stages, gradual_config, phase_table

__all__ = [
    "GPU_ONLY_REASON",
    "describe",
    "MEASURED_POINTS",
    "expected_speedup",
    "suggested_views",
    "val_per_train",
    "TENSORBOARD_FOLDER",
    "balanced_class_weights",
    "prepare_split",
    "list_sweeps",
    "load_sweep",
    "submit_sweep",
    "sweep_points",
    "describe_stages",
    "gradual_config",
    "phase_table",
]
