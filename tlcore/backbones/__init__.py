"""The backbone catalog: the Keras applications registry, KerasHub presets, custom backbones, layer tables, blocks, weights, measure, probe."""

from tlcore.backbones.catalog import all_names, get, layer_table, pretrained_names
from tlcore.backbones.custom import create_custom, create_from_run, custom_names, inspect_model, save_model_upload
from tlcore.backbones.freeze_blocks import (
    block_names,
    block_of_layer,
    blocks,
    default_fine_tune_at,
    fine_tune_at_for_block,
    layer_count,
    layer_name,
)
from tlcore.backbones.fingerprint import EXTRACTION_VERSION, file_fingerprint, weights_fingerprint
from tlcore.backbones.kerashub import KERASHUB, PRESETS_DIR_ENV
from tlcore.backbones.kerashub import presets_root as kerashub_presets_root
from tlcore.backbones.measure import cached_measurements, measure_task, readable_rows
from tlcore.backbones.probe import run_probe
from tlcore.backbones.transferability import (
    GENERIC_TO_SPECIFIC,
    RECOMMENDATION_RULE,
    TooLittleData,
    probe_by_depth,
    recommended_row,
)
from tlcore.backbones.registry import PUBLISHED_SOURCE, REGISTRY, Backbone, names
from tlcore.backbones.small_cnn import small_cnn_backbone
from tlcore.backbones.weights import (
    WeightsFileRejected,
    download_source,
    imagenet_problem,
    install_weights,
    keras_weights,
    registry_rows,
    status,
)

__all__ = [
    "all_names",
    "get",
    "layer_table",
    "pretrained_names",
    "create_custom",
    "create_from_run",
    "custom_names",
    "inspect_model",
    "save_model_upload",
    "block_names",
    "block_of_layer",
    "blocks",
    "default_fine_tune_at",
    "fine_tune_at_for_block",
    "layer_count",
    "layer_name",
    "EXTRACTION_VERSION",
    "file_fingerprint",
    "weights_fingerprint",
    "KERASHUB",
    "PRESETS_DIR_ENV",
    "kerashub_presets_root",
    "cached_measurements",
    "measure_task",
    "readable_rows",
    "run_probe",
    "GENERIC_TO_SPECIFIC",
    "RECOMMENDATION_RULE",
    "TooLittleData",
    "probe_by_depth",
    "recommended_row",
    "Backbone",
    "PUBLISHED_SOURCE",
    "REGISTRY",
    "names",
    "small_cnn_backbone",
    "WeightsFileRejected",
    "download_source",
    "keras_weights",
    "imagenet_problem",
    "install_weights",
    "registry_rows",
    "status",
]
