"""Every export format in its own runtime beside the Keras model, in one run: file size, single-image latency (median
of repeated calls, p10–p90) and batch throughput, each also as a ratio to the app's compiled Keras call.

The model is the one TL Studio exports (tlcore.modeling.build_model → serving → portable model): MobileNetV2 with
random weights (speed does not depend on them), preprocessing inside, no augmentation. ONNX runs in onnxruntime,
OpenVINO IR in the OpenVINO runtime, TFLite in the LiteRT interpreter, all on the CPU. Parity is not measured here
(random weights); the tests measure it on trained runs.
Run: .venv/bin/python bench/export_runtimes.py [--size 96] [--repeats 50] [--batch 32]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tlcore.config.training import TrainConfig  # noqa: E402
from tlcore.inference import export  # noqa: E402
from tlcore.inference.portable import portable_model  # noqa: E402
from tlcore.inference.predictor import compiled_call  # noqa: E402
from tlcore.inference.runtimes import latency_stats, throughput  # noqa: E402
from tlcore.inference.serving import serving_model  # noqa: E402
from tlcore.modeling.model import build_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    model = build_model(TrainConfig(dataset="x", image_size=args.size, weights="random", augment=True), 5)
    serving = portable_model(serving_model(model, temperature=1.3))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (args.batch, args.size, args.size, 3)).astype(np.float32)
    keras_call = compiled_call(model)
    reference = {"size_bytes": None, **latency_stats(keras_call, images[:1], args.repeats),
                 "throughput": throughput(keras_call, images)}
    print(f"MobileNetV2 {args.size} px, 5 classes; {args.repeats} one-image calls (median, p10–p90); batch "
          f"{args.batch}; load {os.getloadavg()[0]:.1f}")
    print(f"{'format':12} {'runtime':15} {'size MB':>8} {'latency ms (p10–p90)':>24} {'× Keras':>8} "
          f"{'img/s':>8} {'× Keras':>8}")
    print(f"{'app (Keras)':12} {'keras':15} {'–':>8} {_latency(reference):>24} {1.0:8.2f} "
          f"{reference['throughput']:8.0f} {1.0:8.2f}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        context = export.ExportContext(Path(folder), lambda: images, work=Path(folder) / "work")
        for fmt in export.FORMATS.values():
            target = Path(folder) / fmt.name
            target.mkdir()
            try:
                artifact = fmt.save(serving, target, context)
                runner = fmt.load(artifact)
            except Exception as error:  # noqa: BLE001 - a missing runtime is a row, not the end of the bench
                print(f"{fmt.name:12} {fmt.runtime:15} FAILS: {type(error).__name__}: {str(error)[:120]}")
                continue
            size = export.size_bytes(artifact) + (export.size_bytes(artifact.with_suffix(".bin"))
                                                 if artifact.suffix == ".xml" else 0)
            stats = latency_stats(runner, images[:1], args.repeats)
            rate = throughput(runner, images)
            print(f"{fmt.name:12} {fmt.runtime:15} {size / 1e6:8.2f} {_latency(stats):>24} "
                  f"{stats['latency_ms'] / reference['latency_ms']:8.2f} {rate:8.0f} "
                  f"{rate / reference['throughput']:8.2f}", flush=True)


def _latency(stats: dict) -> str:
    return f"{stats['latency_ms']:.2f} ({stats['latency_p10_ms']:.2f}–{stats['latency_p90_ms']:.2f})"


if __name__ == "__main__":
    main()
