"""Which devices training runs on: GPUs (name, memory) or the CPU, and the tf.distribute strategy that follows.

`describe()` asks `nvidia-smi`, not TensorFlow, so the Train page can show the device without importing TensorFlow.
Inside a job, `prepare_devices()` decides once what the whole job trains on (`TrainingDevices`): the strategy, which
mirrors the model over every visible GPU when there is more than one (the scheduler makes exactly the job's own GPUs
visible, through CUDA_VISIBLE_DEVICES), and the precision settings. Every compile of
the job goes through `TrainingDevices.compile`, so a recompile (each gradual-unfreezing stage) stays inside the same
strategy's scope with the same XLA setting and dtype policy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tlcore.config.training import TrainConfig
from tlcore.modeling.model import compile_model

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

__all__ = [
    "DEVICES_ENV", "GPU_ONLY_REASON", "MIXED_POLICY", "Gpu", "DeviceInfo", "TrainingDevices", "describe",
    "prepare_devices", "training_strategy", "gpu_visible_to_tensorflow", "enable_memory_growth"
]

# Comma-separated TensorFlow device names to mirror training over (e.g. "/gpu:0,/gpu:2"), instead of all GPUs.
DEVICES_ENV = "TLSTUDIO_DEVICES"
GPU_ONLY_REASON = "needs a GPU; this machine trains on the CPU, where it would be slower, not faster"
MIXED_POLICY = "mixed_float16"


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


@dataclass(frozen=True)
class TrainingDevices:
    """What one job trains on, decided once at its start (`prepare_devices`) and passed to every step that compiles.

    One job process, one strategy: a model must be compiled (its optimizer's variables made) inside the scope of the
    strategy it was built in, or `fit` fails with "Mixing different tf.distribute.Strategy objects".
    """

    strategy: "tf.distribute.Strategy"
    xla: bool  # jit_compile of every compile
    mixed_precision: bool  # the global dtype policy is mixed_float16

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync

    def global_batch(self, per_replica: int) -> int:
        """The batch each step takes: the form's batch size is per replica."""
        return per_replica * self.replicas

    def compile(self, model: "keras.Model", learning_rate, class_count: int, config: TrainConfig) -> None:
        """Compile inside the strategy's scope with the job's XLA setting (Keras's "auto" would ignore the switch)."""
        with self.strategy.scope():
            compile_model(model, learning_rate, class_count, config, jit_compile=self.xla)

    def status(self, model: "keras.Model") -> dict[str, Any]:
        """For status.json. Mixed precision as the model computes: a loaded parent keeps the policy it was saved with."""
        return {"replicas": self.replicas, "mixed_precision_used": model.dtype_policy.name == MIXED_POLICY,
                "xla_used": self.xla}


def prepare_devices(config: TrainConfig) -> TrainingDevices:
    """Set the dtype policy and choose the strategy, before any model is built.

    Mixed precision and XLA are GPU features: on the CPU they are left off (and the status says so).
    """
    import keras

    enable_memory_growth()
    gpu = gpu_visible_to_tensorflow()
    mixed = config.mixed_precision and gpu
    keras.mixed_precision.set_global_policy(MIXED_POLICY if mixed else "float32")
    return TrainingDevices(training_strategy(), xla=config.xla and gpu, mixed_precision=mixed)


def training_strategy() -> "tf.distribute.Strategy":
    """MirroredStrategy over the devices in TLSTUDIO_DEVICES or over every GPU when there are two or more;
    otherwise TensorFlow's default (one device) strategy. The same object every time in a process."""
    import tensorflow as tf

    chosen = [name.strip() for name in os.environ.get(DEVICES_ENV, "").split(",") if name.strip()]
    if not chosen:
        chosen = [device.name for device in tf.config.list_logical_devices("GPU")]
    if len(chosen) > 1:
        return _mirrored_strategy(tuple(chosen))
    return tf.distribute.get_strategy()


@lru_cache(maxsize=None)
def _mirrored_strategy(devices: tuple[str, ...]) -> "tf.distribute.Strategy":
    """One MirroredStrategy per process and device list: TensorFlow numbers each new one's collective ops from 1, so
    a second one (a process that trains twice) reuses the first one's keys and its all-reduce fails with "Shape
    mismatch in the collective instance"."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=list(devices))


def enable_memory_growth() -> None:
    """Take GPU memory as needed rather than all of it: jobs share a machine's GPUs (one job per GPU set, plus CPU-lane
    jobs). Job processes also get TF_FORCE_GPU_ALLOW_GROWTH from the scheduler; this covers a job run in-process.
    Too late once TensorFlow has initialised its GPUs (RuntimeError), which then already follow that variable."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            pass


def gpu_visible_to_tensorflow() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
