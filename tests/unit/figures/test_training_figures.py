"""The freeze strip (bars = blocks split at the freeze boundary, with their counts) and device detection."""


from tlcore.backbones import freeze_blocks as freeze
from tlcore.figures.training import FROZEN_COLOUR, TRAINABLE_COLOUR, freeze_segments, freeze_strip
from tlcore.modeling.model import count_params
from tlcore.training import devices


def test_a_boundary_inside_a_block_splits_it_and_trainable_params_match_the_counts():
    head = count_params("MobileNetV2", 2, None).trainable
    at = freeze.fine_tune_at_for_block("MobileNetV2", "block_15") + 3  # inside block_15

    segments = freeze_segments("MobileNetV2", at)

    split = [segment for segment in segments if segment.block == "block_15"]
    assert [(s.trains, s.first_layer) for s in split] == [(False, at - 3), (True, at)]
    assert [s.block for s in segments if s.trains] == ["block_15", "block_16", "top"]
    assert sum(s.trainable_params for s in segments) + head == count_params("MobileNetV2", 2, at).trainable
    assert sum(s.params for s in segments) + head == count_params("MobileNetV2", 2, at).total


def test_strip_has_a_grey_and_a_green_trace_spanning_the_base():
    figure = freeze_strip("VGG16", freeze.fine_tune_at_for_block("VGG16", "block4"))
    frozen, trainable = figure.data

    assert (frozen.name, frozen.marker.color, trainable.name, trainable.marker.color) == (
        "frozen", FROZEN_COLOUR, "trainable", TRAINABLE_COLOUR)
    assert [row[0] for row in trainable.customdata] == ["block4", "block5"]
    assert sum(frozen.x) + sum(trainable.x) == freeze.layer_count("VGG16")
    assert trainable.text == ("block4<br>5.9M", "block5<br>7.1M")  # VGG16 block4: 1.18M + 2 × 2.36M
    assert freeze_strip("VGG16", None).data[1].x == ()  # whole base frozen: nothing green


def test_no_gpu_means_cpu_and_one_replica(monkeypatch):
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)
    devices.describe.cache_clear()
    try:
        info = devices.describe()
    finally:
        devices.describe.cache_clear()

    assert (info.has_gpu, info.replicas, info.summary()) == (False, 1, "CPU (no GPU visible)")


def test_gpus_listed_by_nvidia_smi_give_names_memory_and_replicas(monkeypatch):
    class Done:
        stdout = "NVIDIA A100-SXM4-40GB, 40960\nNVIDIA A100-SXM4-40GB, 40960\n"

    monkeypatch.setattr(devices.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(devices.subprocess, "run", lambda *args, **kwargs: Done())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    devices.describe.cache_clear()
    try:
        info = devices.describe()
    finally:
        devices.describe.cache_clear()

    assert info.replicas == 2
    assert info.summary() == "NVIDIA A100-SXM4-40GB (40 GB), NVIDIA A100-SXM4-40GB (40 GB)"

