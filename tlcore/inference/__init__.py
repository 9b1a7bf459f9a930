"""Predict with a model: one predictor, model sources, Grad-CAM, batch prediction, and export (of the serving model)."""

from tlcore.inference.batch import BatchInputError, BatchZip, check_batch_zip, rows_to_csv, store_zip
from tlcore.inference.export import FORMATS, export_run, exports_dir, read_report
from tlcore.inference.gradcam import GradCamUnavailable, overlay
from tlcore.inference.predictor import Predictor, cached_predictor
from tlcore.inference.sources import (
    cached_external_predictor,
    model_path_under_data_root,
    parse_class_names,
    store_upload,
)

__all__ = [
    "BatchInputError",
    "BatchZip",
    "check_batch_zip",
    "rows_to_csv",
    "store_zip",
    "FORMATS",
    "export_run",
    "exports_dir",
    "read_report",
    "GradCamUnavailable",
    "overlay",
    "Predictor",
    "cached_predictor",
    "cached_external_predictor",
    "model_path_under_data_root",
    "parse_class_names",
    "store_upload",
]
