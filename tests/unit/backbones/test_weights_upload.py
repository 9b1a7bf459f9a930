"""Uploading ImageNet weights for an air-gapped server: the right file installs, anything else is refused clearly."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    """MobileNetV2 (96 px, no top) weights in both formats, and MobileNet V1 weights: a different architecture."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    from tlcore.backbones import catalog as backbones

    folder = tmp_path_factory.mktemp("weights")
    right = backbones.get("MobileNetV2").build_base(96, weights=None)
    with h5py.File(folder / "right.h5", "w") as handle:  # the layout of the files Keras downloads
        save_weights_to_hdf5_group(handle, right)
    right.save_weights(folder / "right.weights.h5")
    wrong = backbones.get("MobileNet").build_base(128, weights=None)
    with h5py.File(folder / "wrong.h5", "w") as handle:
        save_weights_to_hdf5_group(handle, wrong)
    wrong.save_weights(folder / "wrong.weights.h5")
    return folder, right.get_weights()[0]


@pytest.mark.parametrize("name", ["right.h5", "right.weights.h5"])
def test_right_architecture_installs_and_loads_as_imagenet(studio_dirs, weight_files, name):
    import numpy as np

    from tlcore.backbones import catalog as backbones
    from tlcore.backbones import weights

    folder, first_kernel = weight_files
    backbone = backbones.get("MobileNetV2")
    assert weights.status(backbone, 96).cached is False
    path = weights.install_weights("MobileNetV2", 96, (folder / name).read_bytes())
    expected = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"
    assert path == studio_dirs.keras_home / "models" / expected
    assert weights.status(backbone, 96).cached is True
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind
    # Keras fixed its cache folder when first imported (before this test's KERAS_HOME), so load the installed file by
    # path: the same `load_weights` call keras.applications makes on its cached file.
    loaded = backbone.build_base(96, weights=str(path))
    assert np.array_equal(loaded.get_weights()[0], first_kernel)


@pytest.mark.parametrize("name", ["wrong.h5", "wrong.weights.h5", "garbage"])
def test_other_architecture_or_garbage_is_refused_naming_the_expected_one(studio_dirs, weight_files, name):
    from tlcore.backbones import catalog as backbones
    from tlcore.backbones import weights

    folder, _ = weight_files
    data = b"this is not an HDF5 file" * 100 if name == "garbage" else (folder / name).read_bytes()
    with pytest.raises(weights.WeightsFileRejected) as refused:
        weights.install_weights("MobileNetV2", 96, data)
    message = str(refused.value)
    assert "does not fit MobileNetV2" in message
    assert "include_top=False" in message and "96×96" in message
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5" in message
    assert weights.status(backbones.get("MobileNetV2"), 96).cached is False
    models = studio_dirs.keras_home / "models"
    assert not models.exists() or list(models.iterdir()) == []


def test_empty_upload_is_refused():
    from tlcore.backbones import weights

    with pytest.raises(weights.WeightsFileRejected, match="empty"):
        weights.install_weights("MobileNetV2", 96, b"")


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory):
    """VGG16-shaped no-top weights (random, so not the bytes Keras publishes and md5-checks) in both formats."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    from tlcore.backbones import catalog as backbones

    folder = tmp_path_factory.mktemp("vgg16")
    base = backbones.get("VGG16").build_base(32, weights=None)  # no-top VGG16 weights do not depend on the size
    with h5py.File(folder / "vgg16.h5", "w") as handle:
        save_weights_to_hdf5_group(handle, base)
    base.save_weights(folder / "vgg16.weights.h5")
    return folder, base.get_weights()[-2]


@pytest.mark.parametrize("name", ["vgg16.h5", "vgg16.weights.h5"])
def test_an_upload_keras_would_hash_check_stays_installed_and_trains(studio_dirs, vgg16_weights, make_config, name):
    """Keras md5-checks VGG16's cached file and deletes one that differs: the upload is kept where Keras loads it by
    path, so status, training's build and the probe all find it after the upload."""
    import numpy as np

    from tlcore.backbones import catalog as backbones
    from tlcore.backbones import weights
    from tlcore.modeling.model import build_base

    folder, last_kernel = vgg16_weights
    backbone = backbones.get("VGG16")
    path = weights.install_weights("VGG16", 32, (folder / name).read_bytes(), owner="ana@example.org")

    assert path == weights.installed_path(backbone, 32) and path.is_file()
    assert path.with_name(path.name + ".owner.json").is_file()
    assert weights.status(backbone, 32).cached is True and weights.status(backbone, 32).path == path
    assert weights.keras_weights(backbone, 32) == str(path)
    base = build_base(make_config("d", backbone="VGG16", weights="imagenet"))  # what a training job builds
    assert np.array_equal(base.get_weights()[-2], last_kernel)
    assert path.is_file()  # still there after Keras loaded it


def test_an_upload_keras_cannot_load_after_installing_is_refused_without_an_owner_record(studio_dirs, vgg16_weights,
                                                                                        monkeypatch):
    from tlcore.backbones import catalog as backbones
    from tlcore.backbones import weights

    folder, _ = vgg16_weights
    monkeypatch.setattr(weights, "keras_weights", lambda backbone, size: str(studio_dirs.home / "gone.h5"))
    with pytest.raises(weights.WeightsFileRejected, match="Keras would not load it"):
        weights.install_weights("VGG16", 32, (folder / "vgg16.h5").read_bytes(), owner="ana@example.org")
    installed = weights.installed_path(backbones.get("VGG16"), 32)
    assert not installed.exists() and not installed.with_name(installed.name + ".owner.json").exists()
