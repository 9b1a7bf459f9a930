"""tlcore.backbones.weights: whether ImageNet weights are cached, and a plain answer offline (no test touches the network)."""

import pytest

from tlcore.backbones import catalog as backbones
from tlcore.backbones import weights
from tlcore import network


@pytest.fixture
def offline(monkeypatch):
    """The weights host refuses connections; counts how often it is asked."""
    attempts = []

    def refuse(address, timeout=None, *args, **kwargs):
        attempts.append(address)
        raise OSError("Network is unreachable")

    monkeypatch.setattr(network.socket, "create_connection", refuse)
    return attempts


def test_weights_not_cached_and_not_probed(studio_dirs):
    status = weights.status(backbones.get("MobileNetV2"), 160)

    assert status.filename == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    assert status.path == studio_dirs.keras_home / "models" / status.filename
    assert (status.cached, status.online, status.label) == (False, None, "not cached")


def test_a_cached_weights_file_is_found_where_keras_looks(studio_dirs):
    models = studio_dirs.keras_home / "models"
    models.mkdir(parents=True)
    (models / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5").write_bytes(b"fake")

    status = weights.status(backbones.get("MobileNetV2"), 100)  # 100 px loads the 224 px file

    assert status.cached and status.label == "cached"
    assert status.advice == ("ImageNet weights for MobileNetV2 are cached on this server "
                             "(`mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5`).")  # no folder
    assert status.path == models / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    assert not weights.status(backbones.get("MobileNetV2"), 160).cached


def test_an_empty_file_does_not_count_as_cached(studio_dirs):
    models = studio_dirs.keras_home / "models"
    models.mkdir(parents=True)
    (models / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"")

    assert weights.status(backbones.get("VGG16"), 224).cached is False


def test_offline_answer_says_which_file_to_upload_without_the_server_folder(studio_dirs, offline):
    status = weights.status(backbones.get("VGG16"), 224, probe_network=True)

    assert status.online is False and status.label == "missing (offline)"
    assert status.advice == (
        "ImageNet weights for VGG16 are not cached and this server cannot download them. To use them offline, "
        "upload `vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5` on the Backbones page (Upload a weights file), "
        "or have the server's admin copy it into the Keras weights folder (the file Keras would download), then reload. Or train from random initialisation, which needs far more "
        "data and epochs.")
    assert offline == [("storage.googleapis.com", 443)]


def test_the_network_probe_is_cached(offline):
    assert network.is_online() is False
    assert network.is_online() is False
    assert len(offline) == 1

    assert network.is_online(max_age_s=0) is False  # an expired answer is probed again
    assert len(offline) == 2


def test_a_reachable_host_means_downloadable(studio_dirs, monkeypatch):
    class Connection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(network.socket, "create_connection", lambda address, timeout=None: Connection())

    status = weights.status(backbones.get("ResNet50"), 224, probe_network=True)

    assert status.online is True and status.label == "downloadable"
    assert status.advice.startswith("ImageNet weights for ResNet50 will be downloaded on first use")


def test_cached_weights_are_not_probed(studio_dirs, offline):
    models = studio_dirs.keras_home / "models"
    models.mkdir(parents=True)
    (models / "efficientnetb0_notop.h5").write_bytes(b"fake")

    assert weights.status(backbones.get("EfficientNetB0"), 224, probe_network=True).online is None
    assert offline == []


def test_nasnet_weights_only_at_their_own_size():
    assert weights.imagenet_problem(backbones.get("NASNetLarge"), 331) is None
    assert weights.imagenet_problem(backbones.get("NASNetLarge"), 224) == (
        "NASNetLarge's ImageNet weights only load at 331×331; choose that image size or random initialisation.")
    assert weights.imagenet_problem(backbones.get("MobileNetV2"), 96) is None


def test_a_kerashub_preset_missing_offline_is_refused_at_submission_in_one_line(studio_dirs, pretend_online):
    """Checked where a job is submitted (CLI and page), not found by a failing job after its traceback."""
    import pytest

    from tlcore.config.training import TrainConfig
    from tlcore.modeling import check_config

    pretend_online(False)
    with pytest.raises(ValueError, match="KerasHub preset `dinov2_small` is not on this server"):
        check_config(TrainConfig(dataset="d", backbone="DINOv2-S14", image_size=224, weights="imagenet"))
    check_config(TrainConfig(dataset="d", backbone="DINOv2-S14", image_size=224, weights="random"))  # no error
    with pytest.raises(ValueError, match="at least 224 px"):  # the docs' 224 px only
        check_config(TrainConfig(dataset="d", backbone="DINOv2-S14", image_size=84, weights="random"))


def test_pretrained_weights_are_what_is_on_this_server_never_a_download_never_random(studio_dirs, tmp_path):
    """The one answer the probe and transferability share: an upload installed under `tlstudio-installed/` (weights
    Keras would delete under its own name) is given by path; the file under Keras's name as "imagenet"; nothing
    cached is WeightsUnavailable, not random weights."""
    backbone = backbones.get("VGG16")
    with pytest.raises(weights.WeightsUnavailable, match="not cached on this server.*random weights"):
        weights.pretrained_weights(backbone, 32, "imagenet", who="The probe")
    installed = weights.installed_path(backbone, 32)
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"uploaded weights")
    assert weights.pretrained_weights("VGG16", 32, "imagenet") == str(installed)
    installed.unlink()
    keras_name = studio_dirs.keras_home / "models" / backbone.weights_filename(32)
    keras_name.write_bytes(b"published weights")
    assert weights.pretrained_weights("VGG16", 32, "imagenet") == "imagenet"
    assert weights.pretrained_weights("VGG16", 32, "random") is None
    own_file = tmp_path / "mine.weights.h5"
    own_file.write_bytes(b"x")
    assert weights.pretrained_weights("VGG16", 32, str(own_file)) == str(own_file)
    with pytest.raises(ValueError, match="not found"):
        weights.pretrained_weights("VGG16", 32, str(tmp_path / "missing.h5"))


def test_the_probe_and_transferability_resolve_weights_alike(studio_dirs):
    from tlcore.backbones import probe, transferability

    installed = weights.installed_path(backbones.get("VGG16"), 32)
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"uploaded weights")
    assert probe.resolve_weights("VGG16", 32, "imagenet") == str(installed)
    assert transferability.weights_module.pretrained_weights is weights.pretrained_weights
    with pytest.raises(ValueError, match="Unknown weights"):
        probe.resolve_weights("VGG16", 32, "/some/file.h5")
