"""Datasets from the command line: scan a folder (counts and the health report), the sample, TFDS sets."""

from __future__ import annotations

import json
import sys

from tlcore.datasets import (
    TfdsUnavailable,
    count_images,
    fetch,
    health_report,
    load_settings,
    sample_dataset_path,
    scan_folder,
    summarize_sizes,
)

__all__ = ["add_sample_parser", "add_scan_parser", "add_tfds_parser", "sample", "scan", "tfds"]


def add_sample_parser(sub) -> None:
    sample = sub.add_parser("sample", help="write the built-in digits dataset and print its folder")
    sample.add_argument("--json", action="store_true")


def add_scan_parser(sub) -> None:
    scan = sub.add_parser("scan", help="per-class counts (per split when pre-split) and the dataset health report")
    scan.add_argument("path", help="dataset folder (absolute, or relative to the data root)")
    scan.add_argument("--counts-only", action="store_true", help="count from the listing only; decode no image")
    scan.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_tfds_parser(sub) -> None:
    tfds = sub.add_parser("tfds", help="download a TensorFlow Datasets set and write it as a class-folder dataset")
    tfds.add_argument("name", help="tf_flowers, cats_vs_dogs, cifar10 or rock_paper_scissors")


def sample(args) -> int:
    path = sample_dataset_path()
    print(json.dumps({"path": str(path)}) if args.json else path)
    return 0


def scan(args) -> int:
    output = {"path": args.path, "counts": count_images(args.path)}
    if not args.counts_only:
        scan = scan_folder(args.path)
        progress = (lambda fraction, message: print(f"\r{message}", end="", file=sys.stderr)) if sys.stderr.isatty() \
            else (lambda fraction, message: None)
        health = health_report(scan, load_settings(args.path).split, progress)
        health["sizes"] = summarize_sizes(health["sizes"])
        output["health"] = health
    if args.json:
        print(json.dumps(output, indent=2, ensure_ascii=False))
        return 0
    for group, per_class in output["counts"].items():
        print(f"{group}: " + ", ".join(f"{name} {count}" for name, count in per_class.items()))
    health = output.get("health")
    if health:
        print(f"unreadable: {len(health['unreadable'])}  duplicate groups: {len(health['duplicates'])}  "
              f"leaking across splits: {sum(group['leak'] for group in health['duplicates'])}  "
              f"not read (links, loops, pipes, archives): {len(health['not_read'])}")
        if health["empty_classes"]:
            print(f"left out of training, no images: {', '.join(health['empty_classes'])}")
        for item in health["unreadable"] + health["not_read"]:
            print(f"  {item['path']}: {item['message']}")
        if health["imbalance"]["warning"]:
            print(health["imbalance"]["warning"])
    return 0


def tfds(args) -> int:
    try:
        print(fetch(args.name, lambda fraction, message: print(f"{fraction:.0%} {message}", file=sys.stderr)))
    except TfdsUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
