"""Each exported file run by the runtime people deploy it on, not by TensorFlow, fed as its metadata.json says.

ONNX → onnxruntime, OpenVINO IR → the OpenVINO runtime, TFLite → the LiteRT interpreter (`ai_edge_litert`). The test
images reach every runtime through `client_input`, which reads the exported metadata (size, dtype, range, channel
order, layout) as a client would, so a wrong metadata.json shows up as failed parity. Timings are medians of
repeated calls with their spread (a single sample swung 4.7× between two runs of the same file).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "Runner", "RuntimeUnavailable", "LATENCY_REPEATS", "OPENVINO_CONFIG", "THROUGHPUT_BATCH", "client_input", "onnx_runner",
    "openvino_runner", "litert_runner", "latency_stats", "throughput", "runtime_versions",
]

Runner = Callable[[np.ndarray], np.ndarray]  # a batch as metadata.json describes it → model outputs
LATENCY_REPEATS = 30
OPENVINO_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}
THROUGHPUT_BATCH = 32


class RuntimeUnavailable(RuntimeError):
    """The runtime a format is checked with is not installed on this server; the message names the package."""


def client_input(images: np.ndarray, metadata: dict[str, Any]) -> np.ndarray:
    """Images (n, h, w, 3) RGB 0–255 made into the exact tensor metadata.json asks a client for."""
    spec = metadata["input"]
    height, width = spec["shape"][1:3] if spec.get("layout", "NHWC") == "NHWC" else spec["shape"][2:4]
    if images.shape[1:3] != (height, width):
        raise ValueError(f"Images are {images.shape[1]}×{images.shape[2]}; this model takes {height}×{width}.")
    x = images.astype(np.float32)
    if spec.get("channel_order", "RGB") == "BGR":
        x = x[..., ::-1]
    low, high = spec.get("range", [0, 255])
    x = low + x * ((high - low) / 255.0)
    if spec.get("layout", "NHWC") == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x.astype(spec.get("dtype", "float32")))


def onnx_runner(path: Path) -> Runner:
    try:
        import onnxruntime
    except ImportError as error:
        raise RuntimeUnavailable("onnxruntime is not installed (pip install -r requirements-export.txt).") from error
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def openvino_runner(path: Path) -> Runner:
    try:
        import openvino
    except ImportError as error:
        raise RuntimeUnavailable("openvino is not installed (pip install -r requirements-export.txt).") from error
    # float32 as exported: on CPUs with AVX-512 BF16 the CPU plugin otherwise runs in bfloat16 by default, which
    # changed the top class of 2 of 161 test images here (98.8 % agreement).
    compiled = openvino.Core().compile_model(str(path), "CPU", OPENVINO_CONFIG)
    return lambda batch: np.asarray(compiled(batch)[0])


def litert_runner(path: Path) -> Runner:
    """The LiteRT interpreter; the input is resized to each batch's shape (the file is built with a dynamic batch)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise RuntimeUnavailable("ai-edge-litert is not installed (pip install -r requirements-export.txt).") \
            from error
    interpreter = Interpreter(model_path=str(path))
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    shape = [None]

    def run(batch: np.ndarray) -> np.ndarray:
        if shape[0] != batch.shape:
            interpreter.resize_tensor_input(input_index, batch.shape)
            interpreter.allocate_tensors()
            shape[0] = batch.shape
        interpreter.set_tensor(input_index, batch)
        interpreter.invoke()
        return interpreter.get_tensor(output_index).copy()

    return run


def latency_stats(runner: Runner, one_image: np.ndarray, repeats: int = LATENCY_REPEATS) -> dict[str, float]:
    """Single-image latency after warm-up: median and the 10th–90th percentile spread, in ms, over `repeats` calls."""
    for _ in range(3):
        runner(one_image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner(one_image)
        times.append((time.perf_counter() - start) * 1000)
    return {"latency_ms": float(np.median(times)), "latency_p10_ms": float(np.percentile(times, 10)),
            "latency_p90_ms": float(np.percentile(times, 90)), "latency_repeats": repeats}


def throughput(runner: Runner, batch: np.ndarray, repeats: int = 5) -> float:
    """Images per second at one batch size: the median over `repeats` batch calls after one warm-up."""
    runner(batch)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        runner(batch)
        times.append(time.perf_counter() - start)
    return float(len(batch) / max(np.median(times), 1e-9))


def runtime_versions() -> dict[str, str | None]:
    """Version of each runtime package here (None when missing), for the report and the README."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("onnxruntime", "openvino", "ai-edge-litert", "tensorflow", "keras"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found
