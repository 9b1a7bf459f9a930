"""What each freeze depth buys and costs, before training: the transferability probe beside the cost of training.

Cost by depth, at every block boundary the probe taps (and at 0, the whole base trained):
- trainable parameters if the base is frozen below it: exact, from the layer table (`count_params`, as the counts
  above the strip);
- seconds per training step at the run's batch and image size on this device: an ESTIMATE from one timing, the
  probe's own forward pass over the sample (steady seconds per image on this device, `forward_seconds_per_image`).
  A step with the whole base frozen is that forward pass for a batch; each shallower depth adds the backward pass of
  the base layers that train, about twice their forward compute (BACKWARD_FACTOR), in proportion to their share of
  the base's compute (`transferability.layer_compute`: multiply-adds from each layer's weights and output size).
  Timing real training steps meant tracing a training graph per depth, which cost most of the curve's time (3
  graphs: 150 s of 180 s on 2 busy cores); `time_training_step` (the real thing) is what the bench checks the
  estimate against;
- peak memory: not measured (no training step runs), said so.

No TensorFlow here beyond the probe and `time_training_step`: the cost is computed from the probe's result, so a
stored probe gives the whole report to the pages.

The task "transferability" runs both in a job process; `cached_report` gives the stored result without TensorFlow.
"""

from __future__ import annotations

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

__all__ = [
    "TIMED_STEPS", "BACKWARD_FACTOR", "MEMORY_NOT_MEASURED", "ESTIMATE_NOTE", "cost_depths", "trainable_by_depth",
    "time_training_step", "estimate_step_seconds", "cost_by_depth", "cached_report", "freeze_depth_report",
    "transferability_task", "task_params", "config_from_params",
]

TIMED_STEPS = 3
BACKWARD_FACTOR = 2.0  # a layer's backward pass (gradients for its input and its weights) ≈ twice its forward
MEMORY_NOT_MEASURED = "not measured (no training step runs for this estimate)"
ESTIMATE_NOTE = ("Seconds per step are an estimate, not a measurement: the probe's forward pass timed on this "
                 "server's device, plus the backward pass of the layers that train at each depth (about twice their "
                 "share of the base's multiply-adds).")


def cost_depths(probe_result: dict[str, Any]) -> list[int]:
    """0 (the whole base trains) and every tapped boundary, in order."""
    return sorted({0, *(row["fine_tune_at"] for row in probe_result["rows"])})


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


def estimate_step_seconds(frozen_seconds: float, costs: list[float], depths: list[int]) -> list[float]:
    """Seconds per step at each depth from a step with the whole base frozen (its forward pass): plus
    BACKWARD_FACTOR × the forward share of the base layers from the depth on (their share of `costs`)."""
    total = sum(costs) or 1.0
    suffix = np.concatenate([np.cumsum(costs[::-1])[::-1], [0.0]])  # suffix[d]: cost of layers d and later
    return [frozen_seconds * (1 + BACKWARD_FACTOR * float(suffix[min(depth, len(costs))]) / total)
            for depth in depths]


def cost_by_depth(config: TrainConfig, class_count: int, probe_result: dict[str, Any]) -> dict[str, Any]:
    """Trainable parameters (exact) and estimated seconds per step at every depth of `cost_depths(probe_result)`,
    from the probe's forward timing and layer compute (`estimate_step_seconds`). No TensorFlow."""
    depths = cost_depths(probe_result)
    frozen_seconds = probe_result["forward_seconds_per_image"] * config.batch_size
    step_seconds = estimate_step_seconds(frozen_seconds, probe_result["layer_compute"], depths)
    rows = [{"fine_tune_at": depth, "trainable_params": trainable, "seconds_per_step": round(step, 5),
             "timed": False, "peak_memory_bytes": None}
            for depth, trainable, step in zip(depths, trainable_by_depth(config, class_count, depths), step_seconds)]
    return {"depths": depths, "rows": rows, "batch_size": config.batch_size, "image_size": config.image_size,
            "device": probe_result.get("device", "this server"), "estimated": True, "note": ESTIMATE_NOTE,
            "memory_note": MEMORY_NOT_MEASURED}


def cached_report(config: TrainConfig, class_count: int) -> dict[str, Any] | None:
    """The probe and cost for this config if the probe is stored, else None. No TensorFlow (pages call it)."""
    probe = probing.cached_probe(config.dataset, config.backbone, config.image_size, config.weights, config.split)
    if probe is None:
        return None
    return {"probe": probe, "cost": cost_by_depth(config, class_count, probe)}


def freeze_depth_report(config: TrainConfig, class_count: int, use_cache: bool = True,
                        report: Callable[[float, str], None] = lambda fraction, message: None,
                        max_images: int = probing.DEFAULT_MAX_IMAGES) -> dict[str, Any]:
    """The probe (its forward pass also times this device), then the cost computed from it."""
    probe = probing.probe_by_depth(config.dataset, config.backbone, config.image_size, config.weights, config.split,
                                   max_images=max_images, use_cache=use_cache, report=report)
    return {"probe": probe, "cost": cost_by_depth(config, class_count, probe)}


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
