"""Figures measured on this server: parameters, layers, feature size and latency of a backbone's base at a given size.

Bases are built with random weights: the weights' values change neither the speed nor the counts, and nothing has to
be downloaded. Results are cached per device + backbone + input size under `cache_root()/measure/`.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from typing import Any, Callable

from tlcore.backbones import catalog, registry
from tlcore.storage.atomic import read_json, write_json_atomic
from tlcore.storage.paths import cache_root

__all__ = [
    "BATCH_SIZES", "WARMUP_CALLS", "TIMED_CALLS", "device_name", "cache_path", "cached_measurements",
    "measure_backbone", "readable_rows", "measure_task"
]

BATCH_SIZES = (1, 32)
WARMUP_CALLS = 2
TIMED_CALLS = {1: 15, 32: 3}  # batch 32 calls are ~30x longer; three give a stable median


def device_name() -> str:
    """The device TensorFlow will use: the first GPU's name, else "CPU (N cores)". Imports TensorFlow."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        try:
            details = tf.config.experimental.get_device_details(gpus[0])
        except Exception:  # noqa: BLE001 - details are optional; the device name is enough
            details = {}
        return str(details.get("device_name") or gpus[0].name)
    return f"CPU ({os.cpu_count()} cores)"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def cache_path(device: str, backbone_name: str, image_size: int):
    return cache_root() / "measure" / _slug(device) / f"{backbone_name}_{image_size}.json"


def cached_measurements(image_size: int | None = None) -> list[dict[str, Any]]:
    """Every cached measurement (any device), optionally only at one input size. No TensorFlow needed."""
    folder = cache_root() / "measure"
    rows = [read_json(path) for path in sorted(folder.glob("*/*.json"))] if folder.exists() else []
    return [row for row in rows if row and (image_size is None or row.get("image_size") == image_size)]


def _median_ms_per_image(call: Callable, batch: Any, batch_size: int, calls: int) -> float:
    for _ in range(WARMUP_CALLS):
        call(batch).numpy()  # .numpy() waits for the device to finish
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        call(batch).numpy()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000.0 / batch_size


def measure_backbone(backbone_name: str, image_size: int, use_cache: bool = True) -> dict[str, Any]:
    """Measure one backbone's base (include_top=False) at `image_size` on this server's device."""
    backbone = catalog.get(backbone_name)
    if image_size < backbone.min_size:
        raise ValueError(f"{backbone.name} needs an input of at least {backbone.min_size} px (asked {image_size}).")
    device = device_name()
    path = cache_path(device, backbone.name, image_size)
    if use_cache:
        cached = read_json(path)
        if cached:
            return {**cached, "cached": True}

    import numpy as np
    import tensorflow as tf

    base = backbone.build_base(image_size, weights=None)
    forward = tf.function(lambda x: base(x, training=False))  # noqa: F821 - bound above; `del base` later frees it
    rng = np.random.default_rng(0)
    latency = {}
    for batch_size in BATCH_SIZES:
        batch = tf.constant(rng.uniform(0, 1, (batch_size, image_size, image_size, 3)).astype("float32"))
        latency[batch_size] = _median_ms_per_image(forward, batch, batch_size, TIMED_CALLS[batch_size])
    result = {
        "backbone": backbone.name,
        "image_size": image_size,
        "device": device,
        "parameters": int(base.count_params()),
        "layers": len(base.layers),
        "feature_dim": int(base.output.shape[-1]),
        "ms_per_image_batch1": round(latency[1], 3),
        "ms_per_image_batch32": round(latency[32], 3),
        "images_per_s_batch32": round(1000.0 / latency[32], 1),
        "measured_at": time.time(),
        "tensorflow": tf.__version__,
    }
    write_json_atomic(path, result)
    import keras

    del base, forward
    keras.backend.clear_session()  # several backbones in one job: free each graph before the next
    return {**result, "cached": False}


def _fmt(value: Any, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


def readable_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Measured figures beside the published ones, as text a person reads: thousands separators, milliseconds with
    one decimal, the device each row was measured on; "–" where there is no figure."""
    none = registry.PublishedFigures(*(None,) * 7)  # a custom backbone has no published figures
    rows = []
    for row in result["rows"]:
        entry = registry.REGISTRY.get(row["backbone"])
        published = entry.published if entry else none
        rows.append({
            "Backbone": row["backbone"], "Input (px)": row["image_size"], "Device": row.get("device", "–"),
            "Parameters": _fmt(row.get("parameters"), ","),
            "Published params (with top)": f"{published.parameters_m:.1f} M" if published.parameters_m else "–",
            "Layers": _fmt(row.get("layers"), ","), "Published depth": _fmt(published.depth, ","),
            "Feature dim": _fmt(row.get("feature_dim"), ","),
            "ms / image, batch 1": _fmt(row.get("ms_per_image_batch1"), ".1f"),
            "ms / image, batch 32": _fmt(row.get("ms_per_image_batch32"), ".1f"),
            "Images / s, batch 32": _fmt(row.get("images_per_s_batch32"), ",.0f"),
            "Published CPU ms / step": _fmt(published.cpu_ms, ".1f"),
            "Note": row.get("error") or ("from cache" if row.get("cached") else "measured now"),
        })
    return rows


def measure_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task "measure": params {"backbones": [names], "image_size": int, "use_cache": bool}."""
    names = list(params["backbones"])
    image_size = int(params["image_size"])
    report(0.0, "starting TensorFlow")
    rows = []
    for index, name in enumerate(names):
        report(index / len(names), f"measuring {name} at {image_size} px ({index + 1}/{len(names)})")
        try:
            rows.append(measure_backbone(name, image_size, use_cache=bool(params.get("use_cache", True))))
        except (ValueError, KeyError) as error:  # a size too small for one backbone must not lose the others
            rows.append({"backbone": name, "image_size": image_size, "error": str(error)})
    report(1.0, "done")
    return {"image_size": image_size, "device": next((r["device"] for r in rows if "device" in r), None),
            "rows": rows}
