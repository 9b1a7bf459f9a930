"""Build the transfer-learning model, freeze it, count its parameters, and write it out as plain Keras code or a
notebook."""

from tlcore.modeling.checks import check_config
from tlcore.modeling.codegen import keras_script, script_zip
from tlcore.modeling.freeze_depth import cached_report as cached_freeze_depth_report
from tlcore.modeling.freeze_depth import freeze_depth_report
from tlcore.modeling.freeze_depth import task_params as freeze_depth_task_params
from tlcore.modeling.model import build_model, config_param_counts, count_params, is_pretrained, keras_param_counts
from tlcore.modeling.notebook import notebook_bytes

__all__ = [
    "check_config",
    "keras_script",
    "script_zip",
    "cached_freeze_depth_report",
    "freeze_depth_report",
    "freeze_depth_task_params",
    "build_model",
    "config_param_counts",
    "count_params",
    "is_pretrained",
    "keras_param_counts",
    "notebook_bytes",
]
