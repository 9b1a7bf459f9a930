"""Why the Train page's freeze slider is instant: parameter counts from the shipped layer table vs building the model.

Run: `.venv/bin/python bench/param_counts.py`. Prints, per backbone, both timings measured in this one run and their
ratio, and checks that both give the same counts.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlcore.config.training import WEIGHTS_RANDOM, TrainConfig
from tlcore.modeling.model import build_model, count_params, keras_param_counts


def main() -> None:
    import keras  # noqa: F401 - imported before timing: the ratio compares counting, not TensorFlow start-up

    print(f"{'backbone':<16} {'fine_tune_at':>12} {'table ms':>10} {'keras ms':>10} {'ratio':>8}  same")
    for name, fine_tune_at in (("MobileNetV2", 100), ("ResNet50", 140), ("EfficientNetB0", 200), ("VGG16", 10)):
        started = time.perf_counter()
        from_table = count_params(name, 10, fine_tune_at)
        table_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        config = TrainConfig(dataset="", backbone=name, image_size=96, fine_tune_at=fine_tune_at,
                             weights=WEIGHTS_RANDOM)
        from_keras = keras_param_counts(build_model(config, 10, load_weights=False))
        keras_ms = (time.perf_counter() - started) * 1000
        print(f"{name:<16} {fine_tune_at:>12} {table_ms:>10.2f} {keras_ms:>10.1f} {keras_ms / table_ms:>7.0f}×  "
              f"{from_table == from_keras}")


if __name__ == "__main__":
    main()
