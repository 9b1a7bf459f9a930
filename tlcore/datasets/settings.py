"""What is kept WITH a dataset: its split and its augmentation, so every run on it uses them until the user changes them.

One JSON file per dataset under `$TLSTUDIO_HOME/datasets/`, named by a hash of the dataset's resolved folder and holding
that folder too, so a person can tell which file belongs to which dataset. It also records who first stored settings
for the dataset (its owner) and a version number that every save increases, so two people editing the same
dataset's settings cannot silently overwrite each other: the second save names the version it started from and is
refused when someone saved in between.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.split import SplitConfig
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import resolve_dataset_path, studio_home

__all__ = ["DatasetSettings", "SettingsChanged", "settings_path", "load_settings", "save_settings"]


class SettingsChanged(ValueError):
    """Someone else saved this dataset's settings after they were loaded here; nothing was overwritten."""


@dataclass
class DatasetSettings:
    split: SplitConfig = field(default_factory=SplitConfig)
    augment: bool = False
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)
    # Bookkeeping, not settings: two DatasetSettings are equal when their split and augmentation are.
    owner: str = field(default="", compare=False)  # who first stored settings for this dataset ("" until then)
    version: int = field(default=0, compare=False)  # how many times they were saved; 0: never
    saved_by: str = field(default="", compare=False)

    def to_dict(self) -> dict:
        return {"split": vars(self.split), "augment": self.augment, "augmentation": self.augmentation.to_dict(),
                "owner": self.owner, "version": self.version, "saved_by": self.saved_by}

    @classmethod
    def from_dict(cls, data: dict) -> "DatasetSettings":
        return cls(split=SplitConfig(**data.get("split", {})), augment=bool(data.get("augment", False)),
                   augmentation=AugmentConfig.from_dict(data.get("augmentation", {})),
                   owner=str(data.get("owner", "")), version=int(data.get("version", 0)),
                   saved_by=str(data.get("saved_by", "")))


def settings_path(dataset: str | os.PathLike) -> Path:
    folder = str(resolve_dataset_path(dataset))
    return studio_home() / "datasets" / f"{hashlib.sha256(folder.encode()).hexdigest()[:16]}.json"


def load_settings(dataset: str | os.PathLike) -> DatasetSettings:
    """The stored settings, or the defaults for a dataset never configured (also when the file is unreadable)."""
    try:
        data = read_json(settings_path(dataset))
        return DatasetSettings.from_dict(data) if data else DatasetSettings()
    except (TypeError, ValueError, AttributeError, RecursionError):  # damaged: checked by the record's own rules
        return DatasetSettings()


def save_settings(dataset: str | os.PathLike, settings: DatasetSettings, *, saved_by: str = "",
                  expected_version: int | None = None) -> DatasetSettings:
    """Store the settings atomically, one version up; returns what was stored.

    Args:
        saved_by: who saves; becomes the dataset's owner when it has none yet.
        expected_version: the version the caller loaded; when the stored one differs, someone saved in between.

    Raises:
        SettingsChanged: `expected_version` is not the stored version (the stored settings are left as they are).
        DiskFull: the disk is full; the previous settings are kept as they were.
    """
    path = settings_path(dataset)
    with _settings_lock(path):
        stored = load_settings(dataset)
        if expected_version is not None and stored.version != expected_version:
            who = f" by {stored.saved_by}" if stored.saved_by else ""
            raise SettingsChanged(f"This dataset's settings were changed{who} after you opened them (version "
                                  f"{stored.version}, you started from {expected_version}); nothing was saved. "
                                  "Reload the page to see their changes, then make yours again.")
        saved = replace(settings, owner=stored.owner or settings.owner or saved_by, version=stored.version + 1,
                        saved_by=saved_by)
        write_json_atomic(path, {"dataset": str(resolve_dataset_path(dataset)), **saved.to_dict()},
                          what="the dataset's settings")
    return saved


@contextmanager
def _settings_lock(path: Path) -> Iterator[None]:
    """Check-then-write as one step, so two saves from the same version cannot both pass the check."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent.parent / ".dataset-settings.lock", "a") as handle:  # beside, not among, the settings
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
