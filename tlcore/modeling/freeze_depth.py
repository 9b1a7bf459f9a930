"""What each freeze depth buys and costs, before training: the transferability probe beside the cost of training.

Cost by depth, at every block boundary the probe taps (and at 0, the whole base trained):
- trainable parameters if the base is frozen below it: exact, from the layer table (`count_params`, as the counts
  above the strip);
- seconds per training step at the run's batch and image size on this device: a few steps timed at a handful of
  depths and linearly interpolated between them by layer index (each row says whether it was measured);
- peak memory of a step where TensorFlow reports it (GPUs); on the CPU it is not reported.

The task "transferability" runs both in a job process; `cached_report` gives the stored result without TensorFlow.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from tlcore.backbones import freeze_blocks
from tlcore.backbones import transferability as probing
from tlcore.backbones.weights import WeightsUnavailable
from tlcore.config.training import TrainConfig
from tlcore.datasets.scan import DatasetError
from tlcore.modeling.model import build_model, compile_model, count_params
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "TIMED_DEPTHS", "TIMED_STEPS", "MEMORY_NOT_REPORTED", "INTERPOLATION_NOTE", "cost_depths", "timed_depths",
    "trainable_by_depth", "time_training_step", "interpolate", "cost_by_depth", "cost_cache_path", "cached_report",
    "freeze_depth_report", "transferability_task", "task_params", "config_from_params",
]

TIMED_DEPTHS = 3
TIMED_STEPS = 3
MEMORY_NOT_REPORTED = "not reported on CPU"
INTERPOLATION_NOTE = (f"Seconds per step: {TIMED_STEPS} training steps timed at {TIMED_DEPTHS} depths on this "
                      "server's device, linearly interpolated between them by layer index.")


def cost_depths(probe_result: dict[str, Any]) -> list[int]:
    """0 (the whole base trains) and every tapped boundary, in order."""
    return sorted({0, *(row["fine_tune_at"] for row in probe_result["rows"])})


def timed_depths(depths: list[int], count: int = TIMED_DEPTHS) -> list[int]:
    """`count` depths spread over the list, always its first and last (timing every boundary would cost more than
    the probe)."""
    if len(depths) <= count:
        return list(depths)
    picks = {round(index * (len(depths) - 1) / (count - 1)) for index in range(count)}
    return [depths[index] for index in sorted(picks)]


def _config_fine_tune_at(depth: int, layer_count: int) -> int | None:
    return None if depth >= layer_count else depth


def trainable_by_depth(config: TrainConfig, class_count: int, depths: list[int]) -> list[int]:
    """Exact trainable parameters with the base frozen below each depth (what `model.summary()` would report)."""
    layer_count = freeze_blocks.layer_count(config.backbone)
    return [count_params(config.backbone, class_count, _config_fine_tune_at(depth, layer_count),
                         pooling=config.pooling, hidden_units=config.hidden_units,
                         image_size=config.image_size).trainable for depth in depths]


def time_training_step(config: TrainConfig, class_count: int, depth: int,
                       steps: int = TIMED_STEPS) -> tuple[float, int | None]:
    """(seconds per step, peak bytes or None) of `train_on_batch` at the config's batch and image size with the base
    frozen below `depth`. The architecture is built without loading weights: their values do not change the time."""
    import keras
    import tensorflow as tf

    layer_count = freeze_blocks.layer_count(config.backbone)
    timed = replace(config, fine_tune_at=_config_fine_tune_at(depth, layer_count), augment=False)
    model = build_model(timed, class_count, load_weights=False)
    compile_model(model, config.learning_rate, class_count, timed)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (config.batch_size, config.image_size, config.image_size, 3)).astype("float32")
    labels = rng.integers(0, class_count, config.batch_size)
    if class_count == 2:
        labels = labels.astype("float32").reshape(-1, 1)
    gpus = tf.config.list_logical_devices("GPU")
    model.train_on_batch(images, labels)  # the first step traces the graph: not counted
    if gpus:
        tf.config.experimental.reset_memory_stats(gpus[0].name)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    seconds = (time.perf_counter() - start) / steps
    peak = int(tf.config.experimental.get_memory_info(gpus[0].name)["peak"]) if gpus else None
    keras.backend.clear_session()
    return seconds, peak


def interpolate(depths: list[int], measured: dict[int, float]) -> list[float]:
    """Linear interpolation by layer index between the measured depths (constant beyond the ends)."""
    known = sorted(measured)
    return [float(np.interp(depth, known, [measured[d] for d in known])) for depth in depths]


def _device_name() -> str:
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return f"GPU ({gpus[0].name})" if gpus else "CPU"


def cost_cache_path(config: TrainConfig, class_count: int) -> Any:
    """Costs depend on the architecture, batch, image size and device kind, not on the weights' values or the data."""
    key = (f"{config.backbone}|{config.image_size}|{config.batch_size}|{class_count}|{config.pooling}|"
           f"{config.hidden_units}|{config.weights == 'random'}|{config.optimizer}|{config.mixed_precision}|"
           f"{config.xla}")
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_root() / "freeze_depth_cost" / f"{digest}.json"


def cost_by_depth(config: TrainConfig, class_count: int, depths: list[int], use_cache: bool = True,
                  report: Callable[[float, str], None] = lambda fraction, message: None) -> dict[str, Any]:
    """Trainable parameters (exact), seconds per step (timed at a few depths, interpolated) and peak memory (GPU)."""
    path = cost_cache_path(config, class_count)
    cached = read_json(path) if use_cache else None
    if cached and cached.get("depths") == depths:
        return {**cached, "cached": True}
    to_time = timed_depths(depths)
    seconds: dict[int, float] = {}
    peaks: dict[int, int | None] = {}
    for index, depth in enumerate(to_time):
        report(index / len(to_time), f"timing {TIMED_STEPS} training steps with the base frozen below {depth} "
                                     f"({index + 1}/{len(to_time)})")
        seconds[depth], peaks[depth] = time_training_step(config, class_count, depth)
    step_seconds = interpolate(depths, seconds)
    measured_peaks = {depth: peak for depth, peak in peaks.items() if peak is not None}
    peak_bytes = [int(value) for value in interpolate(depths, measured_peaks)] if measured_peaks else None
    rows = [{"fine_tune_at": depth, "trainable_params": trainable, "seconds_per_step": round(step, 5),
             "timed": depth in seconds, "peak_memory_bytes": peak_bytes[index] if peak_bytes else None}
            for index, (depth, trainable, step) in enumerate(zip(depths, trainable_by_depth(config, class_count,
                                                                                             depths), step_seconds))]
    result = {"depths": depths, "rows": rows, "batch_size": config.batch_size, "image_size": config.image_size,
              "device": _device_name(), "timed_depths": to_time, "note": INTERPOLATION_NOTE,
              "memory_note": None if measured_peaks else MEMORY_NOT_REPORTED}
    write_json_atomic(path, result)
    report(1.0, "done")
    return {**result, "cached": False}


def cached_report(config: TrainConfig, class_count: int) -> dict[str, Any] | None:
    """The probe and cost for this config if both are stored, else None. No TensorFlow (pages call it)."""
    probe = probing.cached_probe(config.dataset, config.backbone, config.image_size, config.weights, config.split)
    if probe is None:
        return None
    cost = read_json(cost_cache_path(config, class_count))
    if not cost or cost.get("depths") != cost_depths(probe):
        return None
    return {"probe": probe, "cost": cost}


def freeze_depth_report(config: TrainConfig, class_count: int, use_cache: bool = True,
                        report: Callable[[float, str], None] = lambda fraction, message: None,
                        max_images: int = probing.DEFAULT_MAX_IMAGES) -> dict[str, Any]:
    """Probe then cost (probe 70 % of the progress bar, cost the rest)."""
    probe = probing.probe_by_depth(config.dataset, config.backbone, config.image_size, config.weights, config.split,
                                   max_images=max_images, use_cache=use_cache,
                                   report=lambda fraction, message: report(0.7 * fraction, message))
    cost = cost_by_depth(config, class_count, cost_depths(probe), use_cache,
                         report=lambda fraction, message: report(0.7 + 0.3 * fraction, message))
    report(1.0, "done")
    return {"probe": probe, "cost": cost}


def task_params(config: TrainConfig, class_count: int) -> dict[str, Any]:
    return {"config": config.to_dict(), "class_count": int(class_count)}


def config_from_params(params: dict[str, Any]) -> TrainConfig:
    return TrainConfig.from_dict(params["config"])


def transferability_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task "transferability": params from `task_params`. A dataset too small for the probe gives an error result
    with the class counts (not a failed job: it is an answer)."""
    config = config_from_params(params)
    try:
        return freeze_depth_report(config, int(params["class_count"]), bool(params.get("use_cache", True)), report)
    except probing.TooLittleData as error:
        return {"error": str(error), "class_counts": error.class_counts}
    except (WeightsUnavailable, DatasetError) as error:
        return {"error": str(error)}
