"""Single-image latency of the Predict page's compiled call vs `model.predict`, measured side by side in one run.

Run: `.venv/bin/python bench/predict_latency.py [--image-size 160] [--calls 50]`. Builds the app's MobileNetV2 model
(random weights: latency does not depend on their values), saves and reloads it as the page does, then times one
image through `Predictor.probabilities` (tf.function) and through `model.predict`, interleaved so both see the same
machine load. Checks that both give identical outputs. Target: compiled ≤ ⅓ of `model.predict`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from tlcore.config.training import TrainConfig
from tlcore.inference.predictor import Predictor, probabilities_2d
from tlcore.modeling.model import build_model

CLASSES = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    config = TrainConfig(dataset="", backbone="MobileNetV2", image_size=args.image_size, weights="random")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        build_model(config, CLASSES).save(path)
        predictor = Predictor(path, [str(i) for i in range(CLASSES)], args.image_size)
    image = np.random.default_rng(0).integers(0, 256, (1, args.image_size, args.image_size, 3), dtype=np.uint8)

    compiled = predictor.probabilities(image)
    keras_predict = probabilities_2d(predictor.model.predict(image, verbose=0))
    difference = float(np.abs(compiled - keras_predict).max())
    for _ in range(5):  # warm-up both paths (tracing, thread pools)
        predictor.probabilities(image)
        predictor.model.predict(image, verbose=0)
    compiled_s, predict_s = [], []
    for _ in range(args.calls):
        started = time.perf_counter()
        predictor.probabilities(image)
        compiled_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        predictor.model.predict(image, verbose=0)
        predict_s.append(time.perf_counter() - started)
    compiled_ms, predict_ms = np.median(compiled_s) * 1000, np.median(predict_s) * 1000
    ratio = compiled_ms / predict_ms
    print(f"MobileNetV2 @ {args.image_size}px, 1 image, median of {args.calls} interleaved calls")
    print(f"  compiled call (Predictor): {compiled_ms:8.2f} ms")
    print(f"  model.predict:             {predict_ms:8.2f} ms")
    print(f"  ratio compiled / predict:  {ratio:8.3f}  (target ≤ 0.333: {'met' if ratio <= 1 / 3 else 'NOT met'})")
    print(f"  identical outputs: {'yes' if difference <= 1e-6 else 'NO'} (max |difference| {difference:.2e}, "
          f"same top-1: {compiled.argmax() == keras_predict.argmax()})")


if __name__ == "__main__":
    main()
