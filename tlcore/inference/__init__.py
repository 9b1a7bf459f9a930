"""Predict with a model: one predictor (calibrated, with "not sure"), model sources, Grad-CAM, batch prediction,
export (of the serving model), the model card."""

from tlcore.inference.batch import BatchInputError, BatchZip, check_batch_zip, rows_to_csv, store_zip
from tlcore.inference.calibrated import NOT_SURE, read_calibration, stored_confidence
from tlcore.inference.export import BUNDLE_FILE, FORMATS, bundle_run, export_run, exports_dir, read_report, staleness
from tlcore.inference.gradcam import GradCamUnavailable, overlay
from tlcore.inference.model_card import model_card, model_card_markdown
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
    "NOT_SURE",
    "read_calibration",
    "stored_confidence",
    "FORMATS",
    "BUNDLE_FILE",
    "bundle_run",
    "staleness",
    "export_run",
    "exports_dir",
    "read_report",
    "GradCamUnavailable",
    "overlay",
    "model_card",
    "model_card_markdown",
    "Predictor",
    "cached_predictor",
    "cached_external_predictor",
    "model_path_under_data_root",
    "parse_class_names",
    "store_upload",
]
