"""Active learning on the built-in digits: the instant model's test accuracy at 50, 100 and 200 labels, margin
order against random order, 3 seeds, printed side by side.

The base is the stand-in pretrained MobileNetV2 (bench/_standin.py: trained here on every other image of each digit
class; the task is the other half, which it never saw). Features come through the instant model's own path
(tlcore.labeling.instant: the run's model, features cached per image); labels are hidden and "labeled" from the
hidden key in the order the labeling queue would show them (tlcore.labeling.active).

    python bench/active_learning.py [--image-size 32] [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _folders import scratch_studio  # noqa: E402 (bench/, the script's folder, is on sys.path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--pretrain-epochs", type=int, default=None,
                        help="epochs of the stand-in base's pretraining (default: bench/_standin.py STANDIN_EPOCHS)")
    args = parser.parse_args()

    home = scratch_studio("tlstudio-active-")

    import numpy as np
    from _standin import make_task_dataset, pretrain_base

    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.labeling import instant
    from tlcore.labeling.active import active_learning_curve
    from tlcore.layers.loading import load_model

    digits = sample_dataset_path()
    dataset = make_task_dataset(digits, Path(os.environ["TLSTUDIO_DATA_ROOT"]))
    weights = pretrain_base("MobileNetV2", args.image_size, digits, home / "standin.weights.h5",
                            epochs=args.pretrain_epochs)
    config = instant.InstantConfig(dataset=dataset, image_size=args.image_size, weights=str(weights))
    run = instant.build_instant_run(config, lambda fraction, message: None)
    split = run.split()
    items = split.train + split.val + split.test
    store = instant._FeatureStore(instant._base_identity(config.train_config()))
    model = load_model(run.model_path)
    root = Path(os.environ["TLSTUDIO_DATA_ROOT"]) / dataset
    features = instant._features_for(model, root, items, args.image_size, store, lambda f, m: None, (0, 1))
    labels = np.asarray([label for _, label in items])
    pool = np.arange(len(split.train) + len(split.val))
    test = np.arange(len(pool), len(items))
    print(f"stand-in MobileNetV2 at {args.image_size} px; pool {len(pool)} images, test {len(test)}; "
          f"instant model (all pool labels) test accuracy {run.status()['test_accuracy']:.1%}")
    print(f"{'seed':>4} {'order':>7} " + " ".join(f"{budget:>6}" for budget in args.budgets))
    gaps = {budget: [] for budget in args.budgets}
    for seed in range(args.seeds):
        curves = {order: active_learning_curve(features, labels, pool, test, order, args.budgets, seed=seed)
                  for order in ("margin", "random")}
        for order, points in curves.items():
            print(f"{seed:>4} {order:>7} " + " ".join(f"{point.accuracy:6.1%}" for point in points))
        for budget, margin_point, random_point in zip(args.budgets, curves["margin"], curves["random"]):
            gaps[budget].append(100 * (margin_point.accuracy - random_point.accuracy))
    print("margin minus random, points (mean over seeds): "
          + ", ".join(f"{budget} labels {np.mean(values):+.1f}" for budget, values in gaps.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
