"""tlcore.datasets.settings (issue 13): a full disk keeps the settings stored before, whole."""

import pytest

from tests.disk_full import fill_disk
from tlcore.config.split import SplitConfig
from tlcore.datasets.settings import DatasetSettings, load_settings, save_settings, settings_path
from tlcore.storage import atomic
from tlcore.storage.atomic import DiskFull


def test_a_full_disk_keeps_the_previous_settings_and_says_disk_full(studio_dirs, monkeypatch):
    (studio_dirs.data_root / "pets").mkdir()
    before = DatasetSettings(split=SplitConfig(0.1, 0.2, 3))
    save_settings("pets", before)
    fill_disk(monkeypatch, atomic, room=0)

    with pytest.raises(DiskFull, match="^Disk full: the dataset's settings could not be saved"):
        save_settings("pets", DatasetSettings(split=SplitConfig(0.3, 0.1, 9)))

    assert load_settings("pets") == before
    assert [path.name for path in settings_path("pets").parent.iterdir()] == [settings_path("pets").name]
