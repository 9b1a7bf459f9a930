"""tlcore.datasets.disk_cache: decoded images written once, read back unchanged, and never reused for other files."""

import os

import numpy as np
import pytest


def _items(digits, per_class=4):
    return [(f"{c}/{path.name}", int(c)) for c in ("0", "1") for path in sorted((digits / c).glob("*.png"))[:per_class]]


def _batches(digits, items, cache, size=32):
    from tlcore.datasets.pipeline import make_dataset

    return list(make_dataset(digits, items, size, batch_size=8, binary=False, cache=cache).as_numpy_iterator())


def test_disk_cache_gives_the_decoded_images_and_later_epochs_never_decode(digits, studio_dirs, monkeypatch):
    from tlcore.datasets import decode, disk_cache

    items = _items(digits)
    (uncached_images, labels), = _batches(digits, items, "none")
    (first_images, first_labels), = _batches(digits, items, "disk")

    assert np.array_equal(first_images, uncached_images) and first_labels.tolist() == labels.tolist()
    folders = list(disk_cache.images_folder().iterdir())
    assert len(folders) == 1 and not folders[0].name.startswith(".")  # renamed into place, no temporary left

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of read from the disk cache")

    monkeypatch.setattr(decode, "load_array", no_decoding)
    from tlcore.datasets import pipeline

    monkeypatch.setattr(pipeline, "decode_in_graph", no_decoding)
    (again, _), = _batches(digits, items, "disk")
    assert np.array_equal(again, uncached_images)


def test_the_key_changes_with_the_files_and_the_size(digits):
    from tlcore.datasets.disk_cache import image_cache_key

    items = _items(digits)
    key = image_cache_key(digits, items, 32)
    assert image_cache_key(digits, items, 48) != key
    assert image_cache_key(digits, items[:-1], 32) != key
    path = digits / items[0][0]
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert image_cache_key(digits, items, 32) != key  # the file was written again


def test_a_disk_without_room_decodes_every_epoch_instead(digits, studio_dirs, monkeypatch, capsys):
    import shutil

    from tlcore.datasets import disk_cache

    usage = shutil.disk_usage(studio_dirs.home)
    monkeypatch.setattr(disk_cache.shutil, "disk_usage", lambda path: usage._replace(free=10))
    (images, _), = _batches(digits, _items(digits), "disk")

    assert images.shape == (8, 32, 32, 3)
    assert list(disk_cache.images_folder().iterdir()) == []
    assert "Not caching decoded images on disk" in capsys.readouterr().out


def test_an_unknown_cache_mode_is_refused(digits):
    with pytest.raises(ValueError, match="Unknown cache"):
        _batches(digits, _items(digits), "ssd")
