"""Files on disk: where things live, atomic writes, uploads, archives, trash, the network probe (image decoding is
`tlcore.datasets.images`)."""

from tlcore.storage.archive import (
    MAX_ARCHIVE_RATIO,
    MAX_FILES,
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    ArchiveError,
    ZipCaps,
    extract_zip,
    inspect_keras_archive,
)
from tlcore.storage.atomic import DiskFull
from tlcore.storage.paths import (
    PathOutsideRoot,
    UnusablePath,
    data_root,
    keras_models_dir,
    resolve_dataset_path,
    shown_name,
)
from tlcore.storage.trash import (
    TrashError,
    TrashItem,
    empty_trash,
    folder_size,
    get_trash_item,
    list_trash,
    move_to_trash,
    restore_from_trash,
)
from tlcore.storage.usage import CACHE_KINDS, UsageRow, disk_usage, prune_caches, prune_uploads

__all__ = [
    "ArchiveError",
    "MAX_ARCHIVE_RATIO",
    "MAX_FILES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "ZipCaps",
    "extract_zip",
    "inspect_keras_archive",
    "DiskFull",
    "PathOutsideRoot",
    "UnusablePath",
    "data_root",
    "keras_models_dir",
    "resolve_dataset_path",
    "shown_name",
    "TrashError",
    "TrashItem",
    "empty_trash",
    "folder_size",
    "get_trash_item",
    "list_trash",
    "move_to_trash",
    "restore_from_trash",
    "CACHE_KINDS",
    "UsageRow",
    "disk_usage",
    "prune_caches",
    "prune_uploads",
]
