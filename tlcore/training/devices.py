"""Which devices training runs on: GPUs (name, memory) or the CPU, and the tf.distribute strategy that follows.

`describe()` asks `nvidia-smi`, not TensorFlow, so the Train page can show the device without importing TensorFlow.
Inside a job, `training_strategy()` mirrors the model over every visible GPU when there is more than one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "DEVICES_ENV", "GPU_ONLY_REASON", "Gpu", "DeviceInfo", "describe", "training_strategy",
    "gpu_visible_to_tensorflow"
]

# Comma-separated TensorFlow device names to mirror training over (e.g. "/gpu:0,/gpu:2"), instead of all GPUs.
DEVICES_ENV = "TLSTUDIO_DEVICES"
GPU_ONLY_REASON = "needs a GPU; this machine trains on the CPU, where it would be slower, not faster"


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mb: int | None


@dataclass(frozen=True)
class DeviceInfo:
    gpus: tuple[Gpu, ...]

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def replicas(self) -> int:
        """How many copies of the model a run trains in step (MirroredStrategy with more than one GPU)."""
        return max(1, len(self.gpus))

    def summary(self) -> str:
        if not self.gpus:
            return "CPU (no GPU visible)"
        return ", ".join(f"{gpu.name}" + (f" ({gpu.memory_mb / 1024:.0f} GB)" if gpu.memory_mb else "")
                         for gpu in self.gpus)


@lru_cache(maxsize=1)
def describe() -> DeviceInfo:
    """The GPUs `nvidia-smi` lists (honouring CUDA_VISIBLE_DEVICES), or none; never imports TensorFlow."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1") or not shutil.which("nvidia-smi"):
        return DeviceInfo(())
    try:
        done = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return DeviceInfo(())
    gpus = []
    for line in done.stdout.strip().splitlines():
        name, _, memory = line.rpartition(",")
        gpus.append(Gpu(name.strip(), int(memory) if memory.strip().isdigit() else None))
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        wanted = [int(index) for index in visible.split(",") if index.strip().isdigit()]
        gpus = [gpus[index] for index in wanted if index < len(gpus)]
    return DeviceInfo(tuple(gpus))


def training_strategy() -> "tf.distribute.Strategy":
    """MirroredStrategy over the devices in TLSTUDIO_DEVICES or over every GPU when there are two or more;
    otherwise TensorFlow's default (one device) strategy."""
    import tensorflow as tf

    chosen = [name.strip() for name in os.environ.get(DEVICES_ENV, "").split(",") if name.strip()]
    if not chosen:
        chosen = [device.name for device in tf.config.list_logical_devices("GPU")]
    if len(chosen) > 1:
        return tf.distribute.MirroredStrategy(devices=chosen)
    return tf.distribute.get_strategy()


def gpu_visible_to_tensorflow() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
