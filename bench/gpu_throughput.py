"""Training throughput on a GPU: images/s fine-tuning MobileNetV2 (160 px) and EfficientNetB0 (224 px) in float32,
with mixed precision and with XLA, and the input pipeline alone, measured side by side in one run.

Run on a machine with TensorFlow and a GPU: `python bench/gpu_throughput.py [--images 2048] [--steps 50]`. Writes a
throw-away folder of photo-sized JPEGs, then for each model and mode builds the app's model
(tlcore.modeling.build_model, random weights, whole base trainable), compiles it as a job does and times `--steps`
training steps on synthetic in-memory batches (the accelerator's own speed). The input pipeline alone
(tlcore.datasets.pipeline from the folder: native decoding, parallel, prefetched; first pass, nothing cached) is timed
without a model. Prints images/s, each mode's ratio to float32, and pipeline/model ratios: below 1 the input pipeline,
not the model, limits training. On a machine without a GPU it says so and exits with status 2.
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

MODELS = (("MobileNetV2", 160), ("EfficientNetB0", 224))
MODES = ("float32", "mixed_float16", "xla")


def _model_images_per_second(backbone: str, size: int, mode: str, batch: int, steps: int) -> float:
    import keras
    import numpy as np
    import tensorflow as tf

    from tlcore.config.training import TrainConfig
    from tlcore.modeling.model import build_model, compile_model

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("mixed_float16" if mode == "mixed_float16" else "float32")
    config = TrainConfig(dataset="", backbone=backbone, image_size=size, weights="random", fine_tune_at=0)
    model = build_model(config, 10, load_weights=False)
    compile_model(model, 1e-3, 10, config, jit_compile=mode == "xla")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, batch).astype(np.int32)
    data = tf.data.Dataset.from_tensors((images, labels)).repeat().prefetch(tf.data.AUTOTUNE)
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)  # compile, trace, autotune: not timed
    started = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    keras.mixed_precision.set_global_policy("float32")
    return steps * batch / seconds


def _pipeline_images_per_second(root: Path, items, size: int, batch: int) -> float:
    from tlcore.datasets.pipeline import make_dataset

    os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-home-")  # nothing cached
    dataset = make_dataset(root, items, size, batch, binary=False, shuffle=True, cache="none")
    started = time.perf_counter()
    count = sum(int(images.shape[0]) for images, _ in dataset)
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048, help="JPEGs in the folder the pipeline reads")
    parser.add_argument("--steps", type=int, default=50, help="timed training steps per model and mode")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cpu", action="store_true", help="run anyway without a GPU: a smoke test of this script, "
                        "its figures say nothing about a GPU")
    args = parser.parse_args()

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not args.cpu:
        print("This benchmark needs a GPU: TensorFlow sees none on this machine (tf.config.list_physical_devices"
              "('GPU') is empty). Run it on a GPU host with a CUDA build of TensorFlow.")
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from input_pipeline import _write_folder  # the same photo-sized JPEGs as bench/input_pipeline.py

    home = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    root = home / "photos"
    items = _write_folder(root, args.images)
    print(f"{len(gpus)} GPU(s): {', '.join(gpu.name for gpu in gpus) or 'none, on the CPU'}; batch {args.batch_size}, {args.steps} steps, "
          f"fine-tuning the whole base")
    for backbone, size in MODELS:
        pipeline = _pipeline_images_per_second(root, items, size, args.batch_size)
        speeds = {mode: _model_images_per_second(backbone, size, mode, args.batch_size, args.steps) for mode in MODES}
        for mode, speed in speeds.items():
            print(f"{backbone:<15} {size}px {mode:<14} {speed:8.1f} images/s   ratio to float32 "
                  f"{speed / speeds['float32']:.2f}   pipeline/model {pipeline / speed:.2f}")
        print(f"{backbone:<15} {size}px input pipeline alone {pipeline:8.1f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
