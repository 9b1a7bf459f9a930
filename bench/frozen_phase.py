"""The fast frozen phase against plain `model.fit` through the frozen base: same data, same seeds, one run.

Run: `.venv/bin/python bench/frozen_phase.py [--image-size 32] [--epochs 10] [--augment [--views K | --sweep]]
[--seeds N] [--val-fraction 0.15]`. Trains the head of VGG16 (base frozen) on the built-in digits both ways and
prints wall and CPU times (this process), their ratios (target >= 8x without augmentation, >= 5x with it) and both
validation accuracies (target: equal within 1 point). With `--augment`, plain `fit` augments every epoch through the
base and the fast path trains on K augmented views per image computed once (tlcore.training.feature_cache);
`--views 1,2,5` or `--sweep` (K = 1, 2, 3, 5, 10) compares several K against the same plain run, and `--seeds N`
repeats everything on N splits/initialisations (seeds --first-seed, +1, ...) and prints the mean and the spread per K.
Both paths start from the same decoded images in memory, so the ratio compares training, not JPEG/PNG decoding;
each fast run starts from a cold cache (train and validation features computed inside its time). With one K, a
further line shows a warm cache (a second run on the same data and base), where only the head trains.
Why K matters: the fast path runs the base K x N_train + N_val times, plain fit E x (N_train + N_val) times, so the
ratio is about that quotient (printed as "bound") times how much cheaper one inference pass is than one inside fit.
Uses random weights (ImageNet weights cannot be downloaded offline); the time ratio does not depend on the weights,
but the accuracy comparison does: `--standin` pretrains the base here on half the digits and trains the head on the other half
(bench/_standin.py, MobileNetV2 by default), a task whose plain runs are stable enough to compare within a point.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SWEEP_VIEWS = (1, 2, 3, 5, 10)
LAST_EPOCHS = 3  # a random base's validation accuracy swings several points from epoch to epoch: also their mean


def _last_mean(history: dict) -> float:
    return statistics.fmean(history["val_accuracy"][-LAST_EPOCHS:])


def _spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:6.2f}" + (f" ({min(values):.2f}..{max(values):.2f})" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--backbone", help="VGG16 by default: with random weights (all there is offline) it has no "
                        "BatchNorm and its features stay informative; a random MobileNetV2's pooled features shrink "
                        "to ~1e-12 and no head can learn from them. MobileNetV2 with --standin")
    parser.add_argument("--standin", action="store_true", help="a base pretrained here on half the digits, the task "
                        "the other half (bench/_standin.py) instead of a random base on all the digits")
    parser.add_argument("--augment", action="store_true", help="the Train page's default augmentation (flip, "
                        "rotation 0.1, zoom 0.1): plain fit augments every epoch, the fast path uses --views views")
    parser.add_argument("--views", default="10", help="K augmented views per image, or a comma list (1,2,5)")
    parser.add_argument("--sweep", action="store_true", help=f"--views {','.join(map(str, SWEEP_VIEWS))}")
    parser.add_argument("--seeds", type=int, default=1, help="repeat on this many seeds (split and weights)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--first-seed", type=int, default=42)
    parser.add_argument("--val-fraction", type=float, default=0.15,
                        help="a larger validation set makes 1 point more images (0.15: 270 digits, 2.7 per point)")
    args = parser.parse_args()
    views_list = list(SWEEP_VIEWS) if args.sweep else [int(k) for k in args.views.split(",")]
    if any(k < 1 for k in views_list):
        parser.error("--views must be 1 or more (0 is plain fit, which is always measured)")
    views_list = views_list if args.augment else [0]
    args.backbone = args.backbone or ("MobileNetV2" if args.standin else "VGG16")
    os.environ.pop("TLSTUDIO_DATA_ROOT", None)

    import keras
    import numpy as np
    import tensorflow as tf

    from tlcore.config.split import SplitConfig
    from tlcore.config.training import TrainConfig
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.modeling.model import build_model, compile_model
    from tlcore.training import feature_cache
    from tlcore.training.fit import prepare_split

    os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-")
    os.environ["TLSTUDIO_DATA_ROOT"] = str(Path(os.environ["TLSTUDIO_HOME"]) / "data")  # kept when the home changes
    digits = sample_dataset_path()
    dataset, weights = "sample-digits", "random"
    if args.standin:
        from _standin import make_task_dataset, pretrain_base

        dataset = make_task_dataset(digits, Path(os.environ["TLSTUDIO_DATA_ROOT"]))
        weights = str(pretrain_base(args.backbone, args.image_size, digits,
                                    Path(os.environ["TLSTUDIO_HOME"]) / "standin.weights.h5"))
    # wall ratio, CPU ratio, points (last epoch), points (mean of the last epochs), per K
    results: dict[int, list[tuple[float, float, float, float]]] = {k: [] for k in views_list}
    bounds: dict[int, float] = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        config = TrainConfig(dataset=dataset, backbone=args.backbone, image_size=args.image_size,
                             epochs=args.epochs, weights=weights, fine_tune_at=None, learning_rate=args.learning_rate,
                             augment=args.augment, augmented_views=views_list[0] if args.augment else 0,
                             split=SplitConfig(val_fraction=args.val_fraction, seed=seed))
        root, split = prepare_split(config)
        classes = len(split.class_names)
        print(f"{args.backbone} @ {args.image_size}px, base frozen, {len(split.train)} train / {len(split.val)} "
              f"validation digits (1 point = {len(split.val) / 100:.1f} images), {args.epochs} epochs, batch "
              f"{config.batch_size}, seed {seed}, load average {os.getloadavg()[0]:.1f}"
              + (f"; augmentation {config.augmentation.describe()}" if args.augment else ""), flush=True)
        train_x, train_y = load_arrays(root, split.train, args.image_size)
        val_x, val_y = load_arrays(root, split.val, args.image_size)

        def in_memory(x, y):
            return tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32))).cache()

        def fresh_model(run_config):
            keras.utils.set_random_seed(seed)
            model = build_model(run_config, classes)
            compile_model(model, run_config.learning_rate, classes)
            return model

        plain_model = fresh_model(config)
        plain_train = in_memory(train_x, train_y).shuffle(len(train_y), seed=seed).batch(config.batch_size)
        started, cpu_started = time.perf_counter(), time.process_time()
        plain = plain_model.fit(plain_train, validation_data=in_memory(val_x, val_y).batch(config.batch_size),
                                epochs=args.epochs, verbose=0).history
        plain_s, plain_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"plain model.fit through the frozen base : {plain_s:7.1f} s wall {plain_cpu:7.1f} s CPU   val "
              f"accuracy {plain['val_accuracy'][-1]:.1%} (best {max(plain['val_accuracy']):.1%}, last {LAST_EPOCHS} "
              f"{_last_mean(plain):.1%})", flush=True)

        def fast_run(views, cold=True):
            if cold:  # nothing cached, not even the validation features of the previous K
                os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-")
            run_config = dataclasses.replace(config, augmented_views=views)
            model = fresh_model(run_config)
            started, cpu_started = time.perf_counter(), time.process_time()
            history = feature_cache.fit_head_on_features(
                model, in_memory(train_x, train_y).batch(config.batch_size),
                in_memory(val_x, val_y).batch(config.batch_size), f"bench-train-{views}", "bench-val",
                config.batch_size, seed, epochs=args.epochs, verbose=0, views=views).history
            return time.perf_counter() - started, time.process_time() - cpu_started, history

        for views in views_list:
            fast_s, fast_cpu, fast = fast_run(views)
            points = (fast["val_accuracy"][-1] - plain["val_accuracy"][-1]) * 100
            points_last = (_last_mean(fast) - _last_mean(plain)) * 100
            results[views].append((plain_s / fast_s, plain_cpu / fast_cpu, points, points_last))
            bounds[views] = args.epochs * (len(split.train) + len(split.val)) / (
                max(1, views) * len(split.train) + len(split.val))
            label = f"{views} views" if views else "features"
            print(f"fast frozen phase, {label:<9} computed : {fast_s:7.1f} s wall {fast_cpu:7.1f} s CPU   val "
                  f"accuracy {fast['val_accuracy'][-1]:.1%} (best {max(fast['val_accuracy']):.1%})   ratio "
                  f"{plain_s / fast_s:.1f}x wall, {plain_cpu / fast_cpu:.1f}x CPU, {points:+.2f} points "
                  f"({points_last:+.2f} over the last {LAST_EPOCHS} epochs)", flush=True)
        if len(views_list) == 1 and args.seeds == 1:
            warm_s, warm_cpu, warm = fast_run(views_list[0], cold=False)
            print(f"fast frozen phase, features from cache  : {warm_s:7.1f} s wall {warm_cpu:7.1f} s CPU   val "
                  f"accuracy {warm['val_accuracy'][-1]:.1%}   ratio {plain_s / warm_s:.1f}x wall, "
                  f"{plain_cpu / warm_cpu:.1f}x CPU")

    print(f"summary over {args.seeds} seed(s): mean (min..max); points = fast minus plain validation accuracy at "
          f"the last epoch, and over the last {LAST_EPOCHS} epochs; bound = base passes of plain fit / of the fast path")
    print(f"{'K':>3} {'bound':>6}  {'ratio wall':<20} {'ratio CPU':<20} {'points':<22} {'|points|':>8}  "
          f"{'points, last 3':<22} |points, last 3|")
    for views in views_list:
        walls, cpus, points, lasts = zip(*results[views])
        print(f"{views:>3} {bounds[views]:6.1f}  {_spread(list(walls)):<20} {_spread(list(cpus)):<20} "
              f"{_spread(list(points)):<22} {statistics.fmean(abs(p) for p in points):8.2f}  "
              f"{_spread(list(lasts)):<22} {statistics.fmean(abs(p) for p in lasts):.2f}")
    walls, cpus, points, _ = zip(*results[views_list[0]])
    print(f"validation accuracy difference: {statistics.fmean(abs(p) for p in points):.2f} points (target <= 1)")
    print(f"ratio plain/fast CPU time: {statistics.fmean(cpus):.1f}x")
    print(f"ratio plain/fast: {statistics.fmean(walls):.1f}x (target >= {5 if args.augment else 8}x)")


if __name__ == "__main__":
    main()
