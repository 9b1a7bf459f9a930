"""Does the input pipeline keep up? Training images/s from the image folder (tlcore.datasets.pipeline: native
decoding, parallel, cached) against the same images already decoded as in-memory tensors, measured side by side.

Run: `.venv/bin/python bench/input_pipeline.py [--images 400] [--epochs 3] [--image-size 96]`. Writes a throw-away
folder of photo-sized JPEGs (640×480, two classes), then trains MobileNetV2 (random weights: speed does not depend on
them) at 96 px with the base frozen and with the whole base fine-tuning, each from the folder and from in-memory
tensors, interleaved so both see the same machine load. The folder's time includes decoding (its first epoch; later
epochs read the cache). Last line: `ratio folder/in-memory: X` (target >= 0.9), over both modes.
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


def _write_folder(root: Path, count: int) -> list[tuple[str, int]]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:480, 0:640]
    items = []
    for index in range(count):
        label = index % 2
        base = np.stack([(xx + index) % 256, (yy * (label + 1)) % 256, ((xx + yy) // 3) % 256], -1)
        noise = rng.integers(-30, 30, base.shape)
        relative = f"class_{label}/img_{index:05d}.jpg"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(root / relative, quality=90)
        items.append((relative, label))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tlstudio-bench-"))
    os.environ["TLSTUDIO_HOME"] = str(home / "home")
    root = home / "photos"
    items = _write_folder(root, args.images)

    import keras
    import numpy as np
    import tensorflow as tf

    from tlcore.config.training import TrainConfig
    from tlcore.datasets.pipeline import load_arrays, make_dataset
    from tlcore.modeling.model import build_model, compile_model

    images, labels = load_arrays(root, items, args.image_size)  # decoded before timing: the in-memory side

    def in_memory():
        return tf.data.Dataset.from_tensor_slices((images, labels.astype(np.float32).reshape(-1, 1))).shuffle(
            len(items), seed=0).batch(args.batch_size).prefetch(tf.data.AUTOTUNE)

    def from_folder():
        os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-home-")  # cold: nothing cached
        return make_dataset(root, items, args.image_size, args.batch_size, binary=True, shuffle=True)

    def images_per_second(fine_tune_at, data) -> float:
        config = TrainConfig(dataset="", backbone="MobileNetV2", image_size=args.image_size, weights="random",
                             fine_tune_at=fine_tune_at)
        keras.utils.set_random_seed(0)
        model = build_model(config, 2)
        compile_model(model, 1e-3, 2, config)
        model.fit(in_memory().take(2), epochs=1, verbose=0)  # tracing and thread pools warmed up, not timed
        dataset = data()
        started = time.perf_counter()
        model.fit(dataset, epochs=args.epochs, verbose=0)
        return args.epochs * len(items) / (time.perf_counter() - started)

    print(f"MobileNetV2 @ {args.image_size}px, {len(items)} JPEGs of 640x480, {args.epochs} epochs, batch "
          f"{args.batch_size}; folder = native decoding + cache (cold), in-memory = decoded uint8 tensors")
    folder_total = memory_total = 0.0
    for name, fine_tune_at in (("frozen", None), ("fine-tune", 0)):
        memory = images_per_second(fine_tune_at, in_memory)
        folder = images_per_second(fine_tune_at, from_folder)
        folder_total, memory_total = folder_total + 1 / folder, memory_total + 1 / memory
        print(f"{name:<10} folder {folder:7.1f} images/s   in-memory {memory:7.1f} images/s   "
              f"ratio {folder / memory:.2f}")
    print(f"ratio folder/in-memory: {memory_total / folder_total:.2f}")


if __name__ == "__main__":
    main()
