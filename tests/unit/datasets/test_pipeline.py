"""tlcore.datasets.pipeline and tlcore.datasets.augmentation: what training is fed, decoded by the same code as everything else."""

import numpy as np
import pytest

from tlcore.datasets.decode import NATIVE_TOLERANCE
from tlcore.datasets.images import load_array


def _items(digits, per_class=3):
    return [(f"{c}/{path.name}", int(c)) for c in ("0", "1") for path in sorted((digits / c).glob("*.png"))[:per_class]]


def test_load_arrays_stacks_uint8_images_and_labels(digits):
    from tlcore.datasets.pipeline import load_arrays

    items = _items(digits)

    images, labels = load_arrays(digits, items, 32)

    assert images.shape == (6, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert np.array_equal(images[4], load_array(digits / items[4][0], 32))


def test_load_arrays_of_an_empty_split(digits):
    from tlcore.datasets.pipeline import load_arrays

    images, labels = load_arrays(digits, [], 48)

    assert images.shape == (0, 48, 48, 3) and labels.shape == (0,)


@pytest.mark.parametrize("native", [True, False], ids=["native", "pillow"])
def test_dataset_batches_uint8_images_with_binary_labels_as_a_column(digits, native):
    from tlcore.datasets.pipeline import make_dataset

    items = _items(digits)

    dataset = make_dataset(digits, items, 32, batch_size=4, binary=True, native=native)
    batches = list(dataset.as_numpy_iterator())

    assert tuple(dataset.element_spec[0].shape) == (None, 32, 32, 3)  # static: RandomCrop and the base need it

    assert [images.shape for images, _ in batches] == [(4, 32, 32, 3), (2, 32, 32, 3)]
    assert batches[0][0].dtype == np.uint8
    assert batches[0][1].shape == (4, 1) and batches[0][1].dtype == np.float32
    assert np.concatenate([labels for _, labels in batches]).ravel().tolist() == [0, 0, 0, 1, 1, 1]
    difference = np.abs(batches[1][0][1].astype(int) - load_array(digits / items[5][0], 32))  # order kept
    assert difference.max() <= (NATIVE_TOLERANCE["max"] if native else 0)  # Pillow: the very same pixels


def test_dataset_for_many_classes_has_integer_labels_and_shuffles_reproducibly(digits):
    from tlcore.datasets.pipeline import make_dataset

    items = _items(digits, per_class=5)

    def labels(seed):
        dataset = make_dataset(digits, items, 32, batch_size=10, binary=False, shuffle=True, seed=seed)
        return next(dataset.as_numpy_iterator())[1]

    first = labels(seed=3)
    assert first.dtype == np.int32 and sorted(first.tolist()) == [0] * 5 + [1] * 5
    assert first.tolist() == labels(seed=3).tolist()


def test_a_folder_mixing_native_and_pillow_files_keeps_order_and_pixels(digits, tmp_path):
    from PIL import Image

    from tlcore.datasets.pipeline import make_dataset

    image = Image.open(digits / _items(digits)[0][0]).convert("RGB").resize((40, 30))
    image.save(tmp_path / "a.png")
    image.convert("CMYK").save(tmp_path / "b.jpg")  # Pillow only
    image.save(tmp_path / "c.jpg")
    items = [("a.png", 0), ("b.jpg", 1), ("c.jpg", 0)]

    images, labels = next(make_dataset(tmp_path, items, 16, batch_size=3, binary=False).as_numpy_iterator())

    assert labels.tolist() == [0, 1, 0]
    for decoded, (name, _) in zip(images, items):
        assert np.abs(decoded.astype(int) - load_array(tmp_path / name, 16)).max() <= NATIVE_TOLERANCE["max"]


def test_the_memory_cache_gives_way_to_the_disk_cache_above_its_limit(digits, studio_dirs, monkeypatch):
    from tlcore.datasets.pipeline import make_dataset

    items = _items(digits)
    monkeypatch.setenv("TLSTUDIO_MEMORY_CACHE_BYTES", str(32 * 32 * 3 * len(items)))
    list(make_dataset(digits, items, 32, batch_size=4, binary=False))
    assert not (studio_dirs.home / "cache" / "images").exists()  # fits: memory
    monkeypatch.setenv("TLSTUDIO_MEMORY_CACHE_BYTES", "1000")
    list(make_dataset(digits, items, 32, batch_size=4, binary=False))
    assert len(list((studio_dirs.home / "cache" / "images").iterdir())) == 1  # too large for memory: disk


@pytest.mark.parametrize("cache", ["memory", "disk"])
def test_epochs_after_the_first_read_the_cache_and_never_the_files(digits, studio_dirs, tmp_path, cache):
    import shutil

    from tlcore.datasets.pipeline import make_dataset

    root = tmp_path / "copy"
    shutil.copytree(digits, root)
    items = _items(root)
    dataset = make_dataset(root, items, 32, batch_size=4, binary=False, shuffle=True, cache=cache)
    first = np.concatenate([images for images, _ in dataset.as_numpy_iterator()])
    shutil.rmtree(root)  # an epoch that still decoded would fail here

    second = np.concatenate([images for images, _ in dataset.as_numpy_iterator()])

    assert sorted(map(bytes, first)) == sorted(map(bytes, second))  # the same images, reshuffled


def test_augmentation_builds_only_the_enabled_layers():
    from tlcore.config.augmentation import AugmentConfig
    from tlcore.datasets.augmentation import augmentation_layers

    assert [type(layer).__name__ for layer in augmentation_layers(AugmentConfig()).layers] == \
        ["RandomFlip", "RandomRotation", "RandomZoom"]
    assert [type(layer).__name__ for layer in augmentation_layers(AugmentConfig(flip="none", rotation=0.0, zoom=0.2)).layers] == \
        ["RandomZoom"]
    assert augmentation_layers(AugmentConfig(flip="vertical")).layers[0].mode == "vertical"


def test_the_disk_cache_keeps_the_file_order_so_labels_stay_with_their_images(digits, studio_dirs):
    """The labels are zipped onto the cached images by position: reading the cache back must keep the file order."""
    from tlcore.datasets.pipeline import make_dataset

    items = _items(digits)

    def in_order(cache):
        images, labels = zip(*make_dataset(digits, items, 32, batch_size=16, binary=False, cache=cache).as_numpy_iterator())
        return np.concatenate(images), np.concatenate(labels)

    decoded, labels = in_order("none")
    written, _ = in_order("disk")  # decodes and writes the cache
    read, read_labels = in_order("disk")  # reads it back
    assert len(list((studio_dirs.home / "cache" / "images").iterdir())) == 1
    assert np.array_equal(read_labels, labels) and np.array_equal(written, decoded) and np.array_equal(read, decoded)
    assert len({bytes(image) for image in read[:20]}) > 1  # distinct images, so order matters
