"""The fast frozen phase against plain `model.fit` through the frozen base: same data, same seeds, one run.

Run: `.venv/bin/python bench/frozen_phase.py [--image-size 32] [--epochs 10] [--augment [--views 10]]`. Trains the
head of VGG16 (base frozen) on the built-in digits both ways and prints both wall times, their ratio (target ≥ 8×
without augmentation, ≥ 5× with it) and both validation accuracies (target: equal within 1 point). With
`--augment`, plain `fit` augments every epoch through the base and the fast path trains on `--views` augmented views
per image computed once (tlcore.training.feature_cache). Both paths start from the same decoded images in memory,
so the ratio compares training, not JPEG/PNG decoding; the fast path's time includes computing the features (cold
cache). A third line shows a warm cache (a second run on the same data and base), where only the head trains.
Uses random weights (ImageNet weights cannot be downloaded offline); the time ratio does not depend on the weights.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--backbone", default="VGG16", help="VGG16 by default: with random weights (all there is "
                        "offline) it has no BatchNorm and its features stay informative; a random MobileNetV2's "
                        "pooled features shrink to ~1e-12 and no head can learn from them")
    parser.add_argument("--augment", action="store_true", help="the Train page's default augmentation (flip, "
                        "rotation 0.1, zoom 0.1): plain fit augments every epoch, the fast path uses --views views")
    parser.add_argument("--views", type=int, default=10)
    args = parser.parse_args()
    os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-")  # a cold feature cache
    os.environ.pop("TLSTUDIO_DATA_ROOT", None)

    import keras
    import numpy as np
    import tensorflow as tf

    from tlcore.config.training import TrainConfig
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.modeling.model import build_model, compile_model
    from tlcore.training import feature_cache
    from tlcore.training.fit import prepare_split

    sample_dataset_path()
    config = TrainConfig(dataset="sample-digits", backbone=args.backbone, image_size=args.image_size,
                         epochs=args.epochs, weights="random", fine_tune_at=None, learning_rate=1e-3,
                         augment=args.augment, augmented_views=args.views if args.augment else 0)
    views = feature_cache.views_of(config)
    root, split = prepare_split(config)
    classes = len(split.class_names)
    print(f"{args.backbone} @ {args.image_size}px, base frozen, {len(split.train)} train / {len(split.val)} "
          f"validation digits, {args.epochs} epochs, batch {config.batch_size}, 2 paths from the same decoded images"
          + (f"; augmentation {config.augmentation.describe()}, {views} views per image" if views else ""))
    train_x, train_y = load_arrays(root, split.train, args.image_size)
    val_x, val_y = load_arrays(root, split.val, args.image_size)

    def in_memory(x, y):
        return tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32))).cache()

    def fresh_model():
        keras.utils.set_random_seed(config.split.seed)
        model = build_model(config, classes)
        compile_model(model, config.learning_rate, classes)
        return model

    plain_model = fresh_model()
    plain_train = in_memory(train_x, train_y).shuffle(len(train_y), seed=config.split.seed).batch(config.batch_size)
    started, cpu_started = time.perf_counter(), time.process_time()
    plain = plain_model.fit(plain_train, validation_data=in_memory(val_x, val_y).batch(config.batch_size),
                            epochs=args.epochs, verbose=0).history
    plain_s = time.perf_counter() - started
    plain_cpu = time.process_time() - cpu_started

    def fast_run():
        model = fresh_model()
        started, cpu_started = time.perf_counter(), time.process_time()
        history = feature_cache.fit_head_on_features(
            model, in_memory(train_x, train_y).batch(config.batch_size),
            in_memory(val_x, val_y).batch(config.batch_size), "bench-train", "bench-val", config.batch_size,
            config.split.seed, epochs=args.epochs, verbose=0, views=views).history
        return time.perf_counter() - started, time.process_time() - cpu_started, history

    fast_s, fast_cpu, fast = fast_run()
    warm_s, warm_cpu, warm = fast_run()
    print(f"plain model.fit through the frozen base : {plain_s:7.1f} s   val accuracy {plain['val_accuracy'][-1]:.1%} "
          f"(best {max(plain['val_accuracy']):.1%})")
    print(f"fast frozen phase, features computed    : {fast_s:7.1f} s   val accuracy {fast['val_accuracy'][-1]:.1%} "
          f"(best {max(fast['val_accuracy']):.1%})   ratio {plain_s / fast_s:.1f}x")
    print(f"fast frozen phase, features from cache  : {warm_s:7.1f} s   val accuracy {warm['val_accuracy'][-1]:.1%}   "
          f"ratio {plain_s / warm_s:.1f}x")
    print(f"CPU time of this process (less sensitive to other load on the machine): plain {plain_cpu:.1f} s, "
          f"fast {fast_cpu:.1f} s (ratio {plain_cpu / fast_cpu:.1f}x), cached {warm_cpu:.1f} s "
          f"(ratio {plain_cpu / warm_cpu:.1f}x)")
    difference = abs(plain["val_accuracy"][-1] - fast["val_accuracy"][-1]) * 100
    print(f"validation accuracy difference: {difference:.2f} points (target <= 1)")
    print(f"ratio plain/fast: {plain_s / fast_s:.1f}x (target >= {5 if views else 8}x)")


if __name__ == "__main__":
    main()
