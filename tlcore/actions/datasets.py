"""Datasets as a signed-in user: uploading one (its uploader recorded, so they may delete it), and saving its
stored split and augmentation (owner rule plus the version check)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from tlcore.access import User, record, require
from tlcore.datasets import DatasetSettings, load_settings, save_settings
from tlcore.storage import ZipCaps, data_root, extract_zip, resolve_dataset_path
from tlcore.storage.uploads import dataset_owner, record_dataset_owner

__all__ = ["upload_dataset", "save_dataset_settings", "dataset_owner_of"]


def dataset_owner_of(dataset: str) -> str:
    """Who owns a dataset: the member who uploaded it, else whoever first stored its settings; "" when nobody.

    The uploader comes first, so the first other member to save settings on someone's upload does not become its
    owner, and cleaning (which moves its files) follows the same rule.
    """
    try:
        relative = resolve_dataset_path(dataset).relative_to(data_root())
    except ValueError:
        relative = None
    uploader = dataset_owner(relative.parts[0]) if relative is not None and relative.parts else ""
    return uploader or load_settings(dataset).owner


def upload_dataset(user: User, source: IO[bytes], name: str, caps: ZipCaps | None = None) -> Path:
    """Unpack an uploaded dataset zip into the data root as `user`'s (members and admins); returns its folder.

    Raises:
        NotAllowed: a viewer. ArchiveError: the zip is refused, nothing written. DiskFull: the disk filled up.
    """
    require(user, "upload", what="a dataset")
    folder = extract_zip(source, name, caps=caps)
    top = folder.relative_to(data_root()).parts[0]  # the zip's single top folder may sit one level down
    record_dataset_owner(top, user.id)
    record(user, "upload", top, kind="dataset", file=name)
    return folder


def save_dataset_settings(user: User, dataset: str, settings: DatasetSettings,
                          expected_version: int | None = None) -> DatasetSettings:
    """Store the settings; the first to store them owns them, then only that owner or an admin may change them.

    Args:
        expected_version: the version the user's page loaded (`settings.version` when omitted).

    Raises:
        NotAllowed: someone else owns this dataset's settings. SettingsChanged: they were saved meanwhile.
    """
    require(user, "dataset_settings", dataset_owner_of(dataset) or user.id, what=f"the dataset {dataset}")
    version = settings.version if expected_version is None else expected_version
    saved = save_settings(dataset, settings, saved_by=user.id, expected_version=version)
    record(user, "dataset_settings", dataset, version=saved.version)
    return saved
