"""Backbones from the command line: the registry, parameter counts, speed on this device, the linear probe and
what each freeze depth transfers."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from tlcore import backbones, modeling
from tlcore.backbones import TooLittleData, fine_tune_at_for_block, measure_task, registry_rows, run_probe
from tlcore.backbones.weights import WeightsUnavailable
from tlcore.config import TrainConfig
from tlcore.datasets import load_settings, scan_folder
from tlcore.modeling import build_model, check_config, keras_param_counts

__all__ = ["add_backbones_parser", "add_measure_parser", "add_probe_parser", "add_summary_parser",
           "add_transferability_parser", "list_backbones", "measure", "probe", "summary", "transferability"]


def add_summary_parser(sub) -> None:
    summary = sub.add_parser("summary", help="parameter counts of the model the Train page would build")
    summary.add_argument("--backbone", required=True, choices=backbones.all_names(), metavar="NAME",
                         help="a Keras application name, e.g. MobileNetV2, or a custom-… one (see `backbones`)")
    summary.add_argument("--image-size", type=int, default=None, help="input size in pixels (default: backbone's)")
    summary.add_argument("--classes", type=int, required=True, help="number of classes (2 gives one sigmoid unit)")
    summary.add_argument("--fine-tune-at", type=int, default=None,
                         help="freeze base layers below this index; omit to freeze the whole base")
    summary.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                         help="imagenet runs the base in inference mode, random lets BatchNorm learn; the counts "
                              "are the same (default: imagenet)")
    summary.add_argument("--fine-tune-block", default=None, metavar="BLOCK",
                         help="freeze the base below this block (e.g. block_13 for MobileNetV2) instead of an index")
    summary.add_argument("--pooling", choices=("avg", "max", "flatten"), default="avg", help="head pooling")
    summary.add_argument("--hidden-units", type=int, default=0, help="hidden dense layer in the head (0 = none)")
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_backbones_parser(sub) -> None:
    listing = sub.add_parser("backbones", help="the backbone registry with published figures")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_measure_parser(sub) -> None:
    measure = sub.add_parser("measure", help="parameters, layers, feature size and latency of bases on this device")
    measure.add_argument("--backbone", action="append", required=True, choices=backbones.names(), metavar="NAME",
                         help="a Keras application name; repeat for several")
    measure.add_argument("--image-size", type=int, required=True, help="input size in pixels")
    measure.add_argument("--no-cache", action="store_true", help="measure again even if a cached result exists")
    measure.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_probe_parser(sub) -> None:
    probe = sub.add_parser("probe", help="rank backbones by a linear probe on a stratified sample of a dataset")
    probe.add_argument("--dataset", required=True, help="dataset folder (under the data root)")
    probe.add_argument("--backbone", action="append", required=True, choices=backbones.names(), metavar="NAME",
                       help="a Keras application name; repeat for several")
    probe.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    probe.add_argument("--per-class", type=int, default=30, help="at most this many images per class (default 30)")
    probe.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                       help="imagenet uses cached weights only (never downloads); random must be asked for")
    probe.add_argument("--seed", type=int, default=0)
    probe.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_transferability_parser(sub) -> None:
    command = sub.add_parser("transferability", help="probe accuracy and training cost at every freeze depth of a "
                                                     "base, and the recommended depth, before training")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--backbone", required=True, choices=backbones.all_names(), metavar="NAME",
                         help="a registry, KerasHub or custom backbone name (see `backbones`)")
    command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    command.add_argument("--weights", default="imagenet", metavar="imagenet|random|PATH",
                         help="imagenet (or a preset/custom base's own weights; cached only, never downloaded), "
                              "random, or a weights file (default: imagenet)")
    command.add_argument("--batch-size", type=int, default=32, help="batch size the step time is estimated for")
    command.add_argument("--max-images", type=int, default=2000,
                         help="at most this many training images in the probe (default 2000)")
    command.add_argument("--no-cache", action="store_true", help="compute again even if a result is stored")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def summary(args) -> int:
    backbone = backbones.get(args.backbone)
    size = args.image_size or backbone.default_size
    fine_tune_at = args.fine_tune_at
    if args.fine_tune_block is not None:
        fine_tune_at = fine_tune_at_for_block(backbone.name, args.fine_tune_block)
    config = TrainConfig(dataset="", backbone=backbone.name, image_size=size, fine_tune_at=fine_tune_at,
                         weights=args.weights, pooling=args.pooling, hidden_units=args.hidden_units)
    if args.classes < 2:
        raise ValueError("--classes must be at least 2.")
    # Counts do not depend on the weights' values, so nothing is downloaded.
    counts = keras_param_counts(build_model(config, args.classes, load_weights=False))
    result = {"backbone": backbone.name, "image_size": size, "classes": args.classes,
              "fine_tune_at": fine_tune_at, "weights": args.weights, "pooling": args.pooling,
              "hidden_units": args.hidden_units, **asdict(counts)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{backbone.name} @ {size}px, {args.classes} classes, fine_tune_at={fine_tune_at}: "
              f"total {counts.total:,}  trainable {counts.trainable:,}  non-trainable {counts.non_trainable:,}")
    return 0


def list_backbones(args) -> int:
    rows = registry_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            top1 = f"{row['top1']:.1%}" if row["top1"] else "–"
            print(f"{row['name']:<20} {row['default_size']:>4}px  top-1 {top1:>6}  weights {row['weights']}")
    return 0


def measure(args) -> int:
    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    result = measure_task({"backbones": args.backbone, "image_size": args.image_size,
                           "use_cache": not args.no_cache}, report)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"device: {result['device']}")
        for row in result["rows"]:
            print(f"{row['backbone']:<20} {row['image_size']:>4}px  " + (
                f"error: {row['error']}" if "error" in row else
                f"params {row['parameters']:,}  layers {row['layers']}  features {row['feature_dim']}  "
                f"{row['ms_per_image_batch1']:.2f} ms/img @1  {row['ms_per_image_batch32']:.2f} ms/img @32"))
    return 0 if all("error" not in row for row in result["rows"]) else 1


def probe(args) -> int:
    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    result = run_probe(args.dataset, args.backbone, args.image_size, weights=args.weights, per_class=args.per_class,
                       seed=args.seed, report=report)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['images']} images, {result['classes']} classes, {result['image_size']}px, "
              f"{result['weights']} weights")
        for row in result["rows"]:
            print(f"{row['rank'] or '-':>2}. {row['backbone']:<20} " + (
                f"error: {row['error']}" if "error" in row else
                f"val accuracy {row['val_accuracy']:.1%}  {row['seconds']:.1f} s  {row['images_per_s']:.0f} img/s"))
    return 0 if all("error" not in row for row in result["rows"]) else 1


def transferability(args) -> int:
    def report(fraction, message):
        if not args.json:
            print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)

    scan = scan_folder(args.dataset)
    config = TrainConfig(dataset=args.dataset, backbone=args.backbone, image_size=args.image_size,
                         weights=args.weights, batch_size=args.batch_size, split=load_settings(args.dataset).split)
    check_config(config)
    try:
        result = modeling.freeze_depth_report(config, len(scan.class_names), not args.no_cache, report,
                                              args.max_images)
    except TooLittleData as error:
        if args.json:
            print(json.dumps({"error": str(error), "class_counts": error.class_counts}))
        else:
            print(f"error: {error}", file=sys.stderr)
            for name, count in error.class_counts.items():
                print(f"{name:<24} {count:>6} training images")
        return 2
    except WeightsUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    probe, cost = result["probe"], result["cost"]
    costs = {row["fine_tune_at"]: row for row in cost["rows"]}
    print(f"{probe['backbone']} @ {probe['image_size']} px, {probe['weights']} weights: {probe['images']} training "
          f"images, {probe['folds']}-fold probe. {probe['taps_note']}")
    print(f"{'after block':<16} {'freeze below':>12} {'width':>6} {'probe accuracy':>16} {'trainable':>12} "
          f"{'s/step':>8}")
    for row in probe["rows"]:
        row_cost = costs.get(row["fine_tune_at"], {})
        mark = "  <- recommended" if row["fine_tune_at"] == probe["recommended_fine_tune_at"] else ""
        print(f"{row['block']:<16} {row['fine_tune_at']:>12} {row['feature_width']:>6} "
              f"{row['accuracy']:>9.1%} ± {row['accuracy_spread']:.1%} {row_cost.get('trainable_params', 0):>12,} "
              f"{row_cost.get('seconds_per_step', float('nan')):>8.3f}{mark}")
    print(probe["rule"])
    print(f"{cost['note']} Device {cost['device']}." + (f" Peak memory {cost['memory_note']}."
                                                       if cost.get("memory_note") else ""))
    return 0
