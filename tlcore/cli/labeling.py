"""Few examples from the command line (tlcore.labeling): the instant model, the labeling queue."""

from __future__ import annotations

import json
import sys

from tlcore import backbones
from tlcore.cli.account import cli_user

__all__ = ["add_instant_parser", "add_label_parser", "instant", "label"]


def add_instant_parser(sub) -> None:
    command = sub.add_parser("instant", help="the instant model: class prototypes on a pretrained base, no training "
                                             "(a finished run, cross-validated and evaluated like any run)")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--backbone", default="MobileNetV2", choices=backbones.all_names(), metavar="NAME")
    command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    command.add_argument("--weights", default="imagenet",
                         help="imagenet (cached weights, never downloaded), random, or a weights file")
    command.add_argument("--seed", type=int, default=42, help="the split's seed (default 42)")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_label_parser(sub) -> None:
    command = sub.add_parser("label", help="the labeling queue of a dataset's _unlabeled/ folder: the next images to "
                                           "label, in margin (least confident first), random or name order")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--next", type=int, default=10, metavar="N", help="how many of the next images (default 10)")
    command.add_argument("--order", choices=("margin", "random", "name"), default="margin")
    command.add_argument("--run", help="the run whose predictions order the queue (margin order; an instant model "
                                       "or a trained run)")
    command.add_argument("--seed", type=int, default=0, help="random order's seed")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def instant(args) -> int:
    from tlcore.labeling import InstantConfig, build_instant_run, instant_summary

    def report(fraction, message):
        if not args.json:
            print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)

    config = InstantConfig(dataset=args.dataset, backbone=args.backbone, image_size=args.image_size,
                           weights=args.weights, seed=args.seed)
    run = build_instant_run(config, report, owner=cli_user().id)
    summary = instant_summary(run) or {}
    evaluation = run.evaluation(summary.get("held_out", "test")) or {}
    result = {"run": run.id, **summary, "per_class": evaluation.get("per_class")}
    if args.json:
        print(json.dumps(result))
        return 0
    folds = summary["cross_validated"]
    print(f"run {run.id}: {summary['held_out']} accuracy {summary['held_out_accuracy']:.1%}")
    if folds.get("prototype") is not None:
        print(f"cross-validated on the training images ({folds['folds']} folds): prototypes "
              f"{folds['prototype']:.1%} ± {folds['prototype_spread']:.1%}, "
              f"5-nearest neighbours {folds['knn']:.1%} ± {folds['knn_spread']:.1%}")
    else:
        print(folds.get("message", ""))
    return 0


def label(args) -> int:
    from tlcore.labeling import queue_order, unlabeled_files
    from tlcore.labeling.queue import label_order_task

    if args.order == "margin":
        if not args.run:
            print("error: margin order needs --run RUN (make one in seconds: python -m tlcore instant DATASET), or "
                  "use --order random", file=sys.stderr)
            return 2
        quiet = (lambda fraction, message: None) if args.json else \
            (lambda fraction, message: print(message, file=sys.stderr, flush=True))
        result = label_order_task({"dataset": args.dataset, "run": args.run, "order": "margin"}, quiet)
        items = result["items"]
    else:
        files = unlabeled_files(args.dataset)
        items = [{"path": files[index]} for index in queue_order(len(files), args.order, seed=args.seed)]
    chosen = items[:max(0, args.next)]
    if args.json:
        print(json.dumps({"dataset": args.dataset, "order": args.order, "waiting": len(items), "next": chosen}))
        return 0
    print(f"{len(items)} image(s) waiting in {args.dataset}/_unlabeled/ ({args.order} order)")
    for item in chosen:
        guesses = ", ".join(f"{name} {probability:.0%}" for name, probability in item.get("guesses", []))
        print(item["path"] + (f"  margin {item['margin']:.2f}: {guesses}" if guesses else ""))
    return 0
