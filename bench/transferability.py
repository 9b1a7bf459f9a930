"""Transferability by depth against a real freeze-depth sweep: what the curve costs, and whether its recommendation holds.

On a base pretrained here on half the built-in digits (bench/_standin.py, a STAND-IN for ImageNet weights) and a task
made of the other half, which the base has never seen, one run prints:
1. the time to compute the curve (`tlcore.modeling.freeze_depth_report`, in this process, nothing cached: the probe
   at every block boundary, whose forward pass also times this device; the step times are then estimated from it);
2. the time of a freeze-depth sweep (`tlcore.training.sweep.submit_sweep`, the existing feature: one ordinary job per
   depth, run by the scheduler's workers, one after the other on the CPU lane) over the recommended depth and a few
   others, from submission until every run has ended;
3. the ratio sweep / curve (target ≥ 20×) and the fine-tuned accuracy at the recommended depth against the best of the
   sweep (target within 2 points), on the held-out test split of each run;
4. the step-time estimate against real training steps (`time_training_step`, 3 steps after one traced) at three
   depths, after the sweep (not part of either timing).

Usage: .venv/bin/python bench/transferability.py [--epochs 8] [--depths 4] [--image-size 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TERMINAL = {"finished", "failed", "cancelled", "interrupted", "damaged"}


def _sweep_depths(probe: dict, count: int) -> list[int | None]:
    """The recommended depth, the whole base frozen, the whole base trained, and block ends spread between them."""
    layer_count = probe["layer_count"]
    boundaries = [row["fine_tune_at"] for row in probe["rows"]]
    picks = {probe["recommended_fine_tune_at"], layer_count, 0}
    for index in range(1, max(1, count - 2)):
        picks.add(boundaries[round(index * (len(boundaries) - 1) / max(1, count - 2))])
    return [None if depth >= layer_count else depth for depth in sorted(picks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="MobileNetV2")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each sweep run")
    parser.add_argument("--pretrain-epochs", type=int, default=None,
                        help="epochs of the stand-in base's pretraining (default: bench/_standin.py STANDIN_EPOCHS)")
    parser.add_argument("--max-images", type=int, default=2000, help="probe sample (the page's default is 2000)")
    parser.add_argument("--depths", type=int, default=4, help="sweep runs besides the recommended depth (about)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    args = parser.parse_args()

    os.environ.pop("TLSTUDIO_DATA_ROOT", None)
    os.environ["TLSTUDIO_HOME"] = tempfile.mkdtemp(prefix="tlstudio-bench-transfer-")
    os.environ["TLSTUDIO_DATA_ROOT"] = str(Path(os.environ["TLSTUDIO_HOME"]) / "data")
    os.environ["TLSTUDIO_RUNS_DIR"] = str(Path(os.environ["TLSTUDIO_HOME"]) / "runs")

    from _standin import make_task_dataset, pretrain_base

    from tlcore.config.training import TrainConfig
    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.modeling.freeze_depth import freeze_depth_report
    from tlcore.training import sweep

    digits = sample_dataset_path()
    dataset = make_task_dataset(digits, Path(os.environ["TLSTUDIO_DATA_ROOT"]))
    weights = str(pretrain_base(args.backbone, args.image_size, digits,
                                Path(os.environ["TLSTUDIO_HOME"]) / "standin.weights.h5", epochs=args.pretrain_epochs))
    config = TrainConfig(dataset=dataset, backbone=args.backbone, image_size=args.image_size, epochs=args.epochs,
                         weights=weights, learning_rate=args.learning_rate, batch_size=32)
    print(f"load average {os.getloadavg()[0]:.1f} before the curve", flush=True)

    started, cpu_started = time.perf_counter(), time.process_time()
    result = freeze_depth_report(config, 10, use_cache=False, max_images=args.max_images)
    curve_s, curve_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    probe, cost = result["probe"], result["cost"]
    print(f"curve: {curve_s:.1f} s wall, {curve_cpu:.1f} s CPU (probe {probe['seconds']:.1f} s: {probe['images']} "
          f"training images, {len(probe['rows'])} blocks, {probe['folds']} folds, features {probe['extract_seconds']:.1f}"
          f" s; step times estimated from its forward pass, "
          f"{1000 * probe['forward_seconds_per_image']:.2f} ms per image)", flush=True)
    for row, cost_row in zip(probe["rows"], cost["rows"][1:]):
        print(f"  {row['block']:<10} freeze below {row['fine_tune_at']:>3}  width {row['feature_width']:>5}  probe "
              f"{row['accuracy']:.1%} ± {row['accuracy_spread']:.1%}  trainable {cost_row['trainable_params']:>9,}  "
              f"{cost_row['seconds_per_step']:.3f} s/step (estimated)", flush=True)
    recommended = probe["recommended_fine_tune_at"]
    recommended_config_depth = None if recommended >= probe["layer_count"] else recommended
    print(f"recommended: freeze below {recommended} (after {probe['recommended_block']})", flush=True)

    depths = _sweep_depths(probe, args.depths)
    print(f"sweep over fine_tune_at {depths}, {args.epochs} epochs each; load average {os.getloadavg()[0]:.1f}",
          flush=True)
    started = time.perf_counter()
    sweep_id = sweep.submit_sweep(config, depths)
    while True:
        points = sweep.sweep_points(sweep.load_sweep(sweep_id))
        if all(point["state"] in TERMINAL for point in points):
            break
        time.sleep(5)
    sweep_s = time.perf_counter() - started
    print(f"sweep: {sweep_s:.1f} s wall for {len(points)} runs (load average {os.getloadavg()[0]:.1f})", flush=True)
    for point in points:
        print(f"  fine_tune_at {str(point['fine_tune_at']):>4}: {point['state']}, trainable "
              f"{point['trainable_params'] or 0:>9,}, best val {point['val_accuracy'] or 0:.1%}, test "
              f"{point['test_accuracy'] if point['test_accuracy'] is None else format(point['test_accuracy'], '.1%')}",
              flush=True)
    finished = [point for point in points if point["state"] == "finished" and point["test_accuracy"] is not None]
    at_recommended = next((point for point in finished if point["fine_tune_at"] == recommended_config_depth), None)
    print(f"ratio sweep / curve: {sweep_s / curve_s:.1f}x wall (target >= 20x)")
    if finished and at_recommended:
        best = max(finished, key=lambda point: point["test_accuracy"])
        print(f"test accuracy at the recommended depth {at_recommended['test_accuracy']:.1%} vs the sweep's best "
              f"{best['test_accuracy']:.1%} (fine_tune_at {best['fine_tune_at']}): "
              f"{100 * (best['test_accuracy'] - at_recommended['test_accuracy']):.1f} points behind (target <= 2)")
    else:
        print("the run at the recommended depth did not finish: no accuracy comparison")

    from tlcore.modeling.freeze_depth import time_training_step

    estimated = {row["fine_tune_at"]: row["seconds_per_step"] for row in cost["rows"]}
    for depth in sorted({0, recommended, probe["layer_count"]}):
        measured, _ = time_training_step(config, 10, depth)
        print(f"step time at freeze below {depth:>3}: estimated {estimated[depth]:.3f} s, measured {measured:.3f} s "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
