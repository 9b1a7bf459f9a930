"""Does the input pipeline keep up? Training images/s from the image folder (tlcore.datasets.pipeline: native
decoding, parallel, cached) against the same images already decoded as in-memory tensors, measured side by side.

Run: `.venv/bin/python bench/input_pipeline.py [--images 400] [--epochs 4] [--image-size 96] [--cache auto|disk]`.
Writes a throw-away folder of photo-sized JPEGs (640×480, two classes), then trains MobileNetV2 (random weights:
speed does not depend on them) at 96 px with the base frozen and with the whole base fine-tuning, each from the
folder and from in-memory tensors, interleaved so both see the same machine load.

What is timed: `model.fit` only (the model is built, compiled and traced before the clock starts), each epoch on its
own (wall and this process's CPU time; building the folder's dataset, where the disk cache is written, counts in its
first epoch). The folder starts cold (nothing cached), so its first epoch decodes every
JPEG; the cache (memory, or disk with `--cache disk`) serves every later epoch. The ratio the target is about
(`ratio folder/in-memory`, last line, target >= 0.9) is over the epochs after the first: does the pipeline keep up
once the images are decoded. The first epoch's ratio and the one-off decoding cost are printed above it.
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


class _EpochClock:
    """Wall and CPU seconds of each epoch, taken by a Keras callback (so model building is never inside)."""

    def __init__(self):
        import keras

        clock = self
        self.wall: list[float] = []
        self.cpu: list[float] = []

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                clock._started = (time.perf_counter(), time.process_time())

            def on_epoch_end(self, epoch, logs=None):
                clock.wall.append(time.perf_counter() - clock._started[0])
                clock.cpu.append(time.process_time() - clock._started[1])

        self.callback = Callback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=4, help="at least 2: the first decodes, the rest read the cache")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache", default="auto", choices=("auto", "memory", "disk"),
                        help="the folder pipeline's cache (auto: memory when it fits, as in a job)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch decodes, later ones read the cache)")
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
        return make_dataset(root, items, args.image_size, args.batch_size, binary=True, shuffle=True,
                            cache=args.cache)

    def epoch_times(fine_tune_at, data) -> _EpochClock:
        config = TrainConfig(dataset="", backbone="MobileNetV2", image_size=args.image_size, weights="random",
                             fine_tune_at=fine_tune_at)
        keras.utils.set_random_seed(0)
        model = build_model(config, 2)
        compile_model(model, 1e-3, 2, config)
        model.fit(in_memory().take(2), epochs=1, verbose=0)  # tracing and thread pools warmed up, not timed
        clock = _EpochClock()
        started, cpu = time.perf_counter(), time.process_time()
        dataset = data()  # the disk cache decodes and writes here, before fit: counted in the first epoch
        built_wall, built_cpu = time.perf_counter() - started, time.process_time() - cpu
        model.fit(dataset, epochs=args.epochs, verbose=0, callbacks=[clock.callback])
        clock.wall[0] += built_wall
        clock.cpu[0] += built_cpu
        return clock

    def decode_seconds() -> tuple[float, float]:
        """One cold pass over the folder pipeline without a model: what the first epoch pays once."""
        started, cpu = time.perf_counter(), time.process_time()
        dataset = from_folder()  # the disk cache is written here
        for _ in dataset:
            pass
        return time.perf_counter() - started, time.process_time() - cpu

    print(f"MobileNetV2 @ {args.image_size}px, {len(items)} JPEGs of 640x480, {args.epochs} epochs, batch "
          f"{args.batch_size}; folder = native decoding + {args.cache} cache (cold), in-memory = decoded uint8 "
          f"tensors; timed: model.fit per epoch (wall / CPU of this process); load average "
          f"{os.getloadavg()[0]:.1f}")
    decode_wall, decode_cpu = decode_seconds()
    print(f"decoding alone (cold pass, no model): {decode_wall:.2f} s wall, {decode_cpu:.2f} s CPU, "
          f"{len(items) / decode_wall:.0f} images/s")
    later = {"folder": [0.0, 0.0], "memory": [0.0, 0.0]}  # wall, CPU seconds of the epochs after the first
    count = len(items) * (args.epochs - 1)
    for name, fine_tune_at in (("frozen", None), ("fine-tune", 0)):
        memory = epoch_times(fine_tune_at, in_memory)
        folder = epoch_times(fine_tune_at, from_folder)
        for side, clock in (("folder", folder), ("memory", memory)):
            later[side][0] += sum(clock.wall[1:])
            later[side][1] += sum(clock.cpu[1:])
        first = memory.wall[0] / folder.wall[0]
        steady = sum(memory.wall[1:]) / sum(folder.wall[1:])
        steady_cpu = sum(memory.cpu[1:]) / sum(folder.cpu[1:])
        print(f"{name:<10} first epoch (folder decodes): folder {len(items) / folder.wall[0]:6.1f} vs in-memory "
              f"{len(items) / memory.wall[0]:6.1f} images/s, ratio {first:.2f}")
        print(f"{name:<10} epochs 2-{args.epochs} (cache): folder {count / sum(folder.wall[1:]):6.1f} vs in-memory "
              f"{count / sum(memory.wall[1:]):6.1f} images/s, ratio {steady:.2f} wall, {steady_cpu:.2f} CPU")
    print(f"ratio folder/in-memory over the epochs after the first, CPU time: {later['memory'][1] / later['folder'][1]:.2f}")
    print(f"ratio folder/in-memory: {later['memory'][0] / later['folder'][0]:.2f}")


if __name__ == "__main__":
    main()
