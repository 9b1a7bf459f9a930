"""What is kept WITH a dataset: its split and its augmentation, so every run on it uses them until the user changes them.

One JSON file per dataset under `$TLSTUDIO_HOME/datasets/`, named by a hash of the dataset's resolved folder and holding
that folder too, so a person can tell which file belongs to which dataset.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.split import SplitConfig
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import resolve_dataset_path, studio_home

__all__ = ["DatasetSettings", "settings_path", "load_settings", "save_settings"]


@dataclass
class DatasetSettings:
    split: SplitConfig = field(default_factory=SplitConfig)
    augment: bool = False
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict:
        return {"split": vars(self.split), "augment": self.augment, "augmentation": self.augmentation.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "DatasetSettings":
        return cls(split=SplitConfig(**data.get("split", {})), augment=bool(data.get("augment", False)),
                   augmentation=AugmentConfig.from_dict(data.get("augmentation", {})))


def settings_path(dataset: str | os.PathLike) -> Path:
    folder = str(resolve_dataset_path(dataset))
    return studio_home() / "datasets" / f"{hashlib.sha256(folder.encode()).hexdigest()[:16]}.json"


def load_settings(dataset: str | os.PathLike) -> DatasetSettings:
    """The stored settings, or the defaults for a dataset never configured (also when the file is unreadable)."""
    data = read_json(settings_path(dataset))
    try:
        return DatasetSettings.from_dict(data) if data else DatasetSettings()
    except (TypeError, ValueError):
        return DatasetSettings()


def save_settings(dataset: str | os.PathLike, settings: DatasetSettings) -> None:
    """Store the settings atomically.

    Raises:
        DiskFull: the disk is full; the previous settings are kept as they were.
    """
    path = settings_path(dataset)
    write_json_atomic(path, {"dataset": str(resolve_dataset_path(dataset)), **settings.to_dict()},
                      what="the dataset's settings")
