"""Image-folder datasets: image decoding, scan, split, stored settings, health, sample, TFDS, thumbnails, tf.data,
augmentation."""

from tlcore.datasets.augmentation import preview
from tlcore.datasets.health import cached_report, health_report, split_dataset, summarize_sizes
from tlcore.datasets.images import IMAGE_EXTENSIONS, BadImage, load_array, open_rgb, pixel_budget, thumbnail
from tlcore.datasets.sample import SAMPLE_NAME, sample_dataset_path
from tlcore.datasets.scan import BadFile, DatasetError, DatasetScan, ScanProblem, count_images, scan_folder
from tlcore.datasets.settings import DatasetSettings, SettingsChanged, load_settings, save_settings
from tlcore.datasets.split import make_split
from tlcore.datasets.tfds import CATALOG, TfdsUnavailable, fetch, folder_name, is_ready, offline_message
from tlcore.datasets.thumbnails import cached_thumbnail, describe, large_view, page_of

__all__ = [
    "IMAGE_EXTENSIONS",
    "BadImage",
    "load_array",
    "open_rgb",
    "pixel_budget",
    "thumbnail",
    "preview",
    "cached_report",
    "health_report",
    "split_dataset",
    "summarize_sizes",
    "SAMPLE_NAME",
    "sample_dataset_path",
    "BadFile",
    "DatasetError",
    "DatasetScan",
    "ScanProblem",
    "count_images",
    "scan_folder",
    "DatasetSettings",
    "SettingsChanged",
    "load_settings",
    "save_settings",
    "make_split",
    "CATALOG",
    "TfdsUnavailable",
    "fetch",
    "folder_name",
    "is_ready",
    "offline_message",
    "cached_thumbnail",
    "describe",
    "large_view",
    "page_of",
]
