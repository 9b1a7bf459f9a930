"""Downloading ImageNet weights as Keras would, from a local http.server standing in for the Keras weights host."""

import functools
import hashlib
import http.server
import json
import threading

import pytest

from tlcore.backbones import catalog, registry, weights
from tlcore.backbones import download as weights_download
from tlcore.backbones.weights import WeightsUnavailable
from tlcore.jobs import tasks
from tlcore import network

VGG16_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_PATH = "/tensorflow/keras-applications/vgg16/" + VGG16_FILE
FAKE_BODY = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local http.server serving `files` ({url path: bytes}); TLSTUDIO_WEIGHTS_MIRROR points at it."""
    root = tmp_path / "mirror"
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(weights_download.MIRROR_ENV, f"http://127.0.0.1:{server.server_port}")
    network._probe_cache.clear()

    def serve(url_path: str, body: bytes) -> None:
        target = root / url_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)

    yield serve
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def fake_vgg16_hash(monkeypatch):
    """Keras' VGG16 entry, with the hash of FAKE_BODY in place of the real file's."""
    sources = dict(weights_download._sources())
    sources[VGG16_FILE] = {**sources[VGG16_FILE], "file_hash": hashlib.md5(FAKE_BODY).hexdigest()}
    monkeypatch.setattr(weights_download, "_sources", lambda: sources)


def test_sources_are_what_keras_applications_download():
    sources = weights_download._sources()

    for backbone in registry.REGISTRY.values():
        for size in backbone.weights_sizes or (backbone.default_size,):
            assert backbone.weights_filename(size) in sources, backbone.name
    vgg16 = weights_download.source_for("VGG16", 224)
    # the hash as written in keras/src/applications/vgg16.py (WEIGHTS_PATH_NO_TOP)
    assert vgg16.url == "https://storage.googleapis.com" + VGG16_PATH
    assert vgg16.file_hash == "6d6bbae143d832006294945121d1f1fc" and vgg16.hash_algorithm == "md5"
    assert weights_download.source_for("ConvNeXtTiny", 224).hash_algorithm == "sha256"
    assert weights_download.source_for("NASNetMobile", 224).url.endswith("/NASNet-mobile-no-top.h5")


def test_download_streams_with_progress_checks_the_hash_and_installs(studio_dirs, mirror, fake_vgg16_hash,
                                                                      monkeypatch):
    monkeypatch.setattr(weights_download, "CHUNK_BYTES", 256 * 1024)
    mirror(VGG16_PATH, FAKE_BODY)
    reports = []

    result = weights_download.download_weights("VGG16", 224, lambda fraction, text: reports.append((fraction, text)))

    installed = studio_dirs.keras_home / "models" / VGG16_FILE
    assert installed.read_bytes() == FAKE_BODY
    assert result["path"] == str(installed) and result["hash_checked"] is True
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(text == "downloaded 0.5 of 1.0 MB" for _, text in reports)
    assert len([f for f in fractions if 0 < f < 1]) == 4  # one report per 256 KiB chunk
    assert weights.status(catalog.get("VGG16"), 224).label == "cached"
    assert [p.name for p in installed.parent.iterdir()] == [VGG16_FILE]  # no temporary file left


def test_a_file_with_the_wrong_hash_is_refused_and_nothing_installed(studio_dirs, mirror):
    mirror(VGG16_PATH, FAKE_BODY)  # not the real VGG16 file: Keras' real md5 does not match

    with pytest.raises(weights_download.DownloadFailed, match=r"not the file Keras expects: its md5 is .*"
                                                              r"Keras expects 6d6bbae143d832006294945121d1f1fc"):
        weights_download.download_weights("VGG16", 224)

    models = studio_dirs.keras_home / "models"
    assert not list(models.iterdir())


def test_a_missing_file_on_the_server_is_a_clear_failure(studio_dirs, mirror):
    with pytest.raises(weights_download.DownloadFailed, match="HTTP Error 404.*Nothing was installed"):
        weights_download.download_weights("ResNet50", 224)


def test_offline_says_so_and_points_to_the_upload(studio_dirs, monkeypatch, pretend_online):
    pretend_online(False)

    with pytest.raises(WeightsUnavailable, match=r"offline.*storage\.googleapis\.com.*'Upload a weights file'"):
        weights_download.download_weights("VGG16", 224)


def test_download_task_runs_in_the_queue_and_reports_progress(studio_dirs, mirror, fake_vgg16_hash):
    mirror(VGG16_PATH, FAKE_BODY)
    task = tasks.create_task("download_weights", {"backbone": "VGG16", "image_size": 224})

    assert tasks.run_task(task) == {"cancelled": False}

    assert tasks.task_result(task)["filename"] == VGG16_FILE
    status = task.status()
    assert status["progress"] == 1.0 and status["phase"] == f"installed {VGG16_FILE}"
    assert json.loads((task.path / "task.json").read_text())["target"] == "tlcore.backbones.download:download_task"
