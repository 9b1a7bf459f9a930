"""Files on disk: where things live, atomic writes, image decoding, uploads, archives, the network probe."""

from tlcore.storage.archive import MAX_FILES, MAX_TOTAL_BYTES, ArchiveError, extract_zip
from tlcore.storage.images import IMAGE_EXTENSIONS, BadImage, load_array, open_rgb, thumbnail
from tlcore.storage.network import is_online, weights_host
from tlcore.storage.paths import PathOutsideRoot, data_root, keras_models_dir

__all__ = [
    "ArchiveError",
    "MAX_FILES",
    "MAX_TOTAL_BYTES",
    "extract_zip",
    "BadImage",
    "IMAGE_EXTENSIONS",
    "load_array",
    "open_rgb",
    "thumbnail",
    "is_online",
    "weights_host",
    "PathOutsideRoot",
    "data_root",
    "keras_models_dir",
]
