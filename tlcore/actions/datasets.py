"""Saving a dataset's stored split and augmentation as a signed-in user: owner rule plus the version check."""

from __future__ import annotations

from tlcore.access import User, record, require
from tlcore.datasets import DatasetSettings, load_settings, save_settings

__all__ = ["save_dataset_settings"]


def save_dataset_settings(user: User, dataset: str, settings: DatasetSettings,
                          expected_version: int | None = None) -> DatasetSettings:
    """Store the settings; the first to store them owns them, then only that owner or an admin may change them.

    Args:
        expected_version: the version the user's page loaded (`settings.version` when omitted).

    Raises:
        NotAllowed: someone else owns this dataset's settings. SettingsChanged: they were saved meanwhile.
    """
    stored = load_settings(dataset)
    require(user, "dataset_settings", stored.owner or user.id, what=f"the dataset {dataset}")
    version = settings.version if expected_version is None else expected_version
    saved = save_settings(dataset, settings, saved_by=user.id, expected_version=version)
    record(user, "dataset_settings", dataset, version=saved.version)
    return saved
