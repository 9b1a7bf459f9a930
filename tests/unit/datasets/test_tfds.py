"""tlcore.datasets.tfds: a fetch writes only into a folder it owns, and one fetch per name runs at a time."""

import threading

import pytest

from tlcore.datasets import tfds as tfds_source


def test_a_user_folder_named_like_a_tfds_dataset_is_never_replaced(studio_dirs, pretend_online):
    import tensorflow_datasets as tfds

    pretend_online(True)
    mine = studio_dirs.data_root / "tfds-rock_paper_scissors"  # e.g. an uploaded tfds-rock_paper_scissors.zip
    (mine / "rock").mkdir(parents=True)
    (mine / "rock" / "my_photo.png").write_bytes(b"my own photo")

    with tfds.testing.mock_data(num_examples=4), pytest.raises(tfds_source.TfdsUnavailable) as refused:
        tfds_source.fetch("rock_paper_scissors")

    assert "'tfds-rock_paper_scissors' already exists" in str(refused.value)
    assert "was not written by this app" in str(refused.value) and "rename it" in str(refused.value)
    assert (mine / "rock" / "my_photo.png").read_bytes() == b"my own photo"
    assert sorted(p.name for p in mine.rglob("*")) == ["my_photo.png", "rock"]
    assert not list(studio_dirs.data_root.glob(".tfds-*"))  # no staging folder left behind


def test_two_fetches_of_one_name_at_once_write_it_once(studio_dirs, monkeypatch, pretend_online):
    import tensorflow_datasets as tfds

    pretend_online(True)
    writes = []
    write = tfds_source._write_class_folders

    def counted(*args, **kwargs):
        writes.append(threading.get_ident())
        return write(*args, **kwargs)

    monkeypatch.setattr(tfds_source, "_write_class_folders", counted)
    results, errors = [], []

    def fetch():
        try:
            results.append(tfds_source.fetch("rock_paper_scissors"))
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    with tfds.testing.mock_data(num_examples=4):
        threads = [threading.Thread(target=fetch) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
    assert results == [studio_dirs.data_root / "tfds-rock_paper_scissors"] * 2
    assert len(writes) == 1  # the second waited for the lock, then found the folder ready
    assert tfds_source.is_ready("rock_paper_scissors")
